// The images of a run, found again for explanations (explain/run_images.ts): exactly the training and validation
// images `insight train` chose (a seeded stratified image-folder split), and those `insight finetune` chose (its
// classes, few-shot training images and held-out images), compared image by image with the training code's own
// choice; runs saved before --split-method; and the house errors when the data changed or has another image size.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import type { ImageDataset } from '../../src/data';
import { runImages } from '../../src/explain/run_images';
import { loadBaseModel } from '../../src/finetune/base_model';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { prepareFinetuneData } from '../../src/finetune/data';
import { recordRunData } from '../../src/run/dataset_source';
import { saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { resolveTrainConfig } from '../../src/train/config';
import { prepareData } from '../../src/train/data_setup';
import { pixel, writeTinyCifar } from '../data/helpers';
import { tinyBase } from '../finetune/tiny_base';
import { JPG_MINI } from '../shared_data';
import { houseError } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-run-images-'));
const runsDir = path.join(tmp, 'runs');

/** root/<class>/ with the first `n` mini-set images of each class (copies). */
function folder(root: string, classes: string[], n: number): string {
  for (const c of classes) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (let i = 0; i < n; i++) fs.copyFileSync(path.join(JPG_MINI, c, `${String(i).padStart(4, '0')}.jpg`), path.join(root, c, `${i}.jpg`));
  }
  return root;
}

/** A run directory with `config` as config.json and, when given, `record` as data.json. */
function runWith(config: unknown, record?: Parameters<typeof recordRunData>[1]): RunDir {
  const run = RunDir.create(runsDir, config);
  if (record !== undefined) recordRunData(run, record, () => {});
  return run;
}

/** Same images, labels, class names and files. */
function assertSameImages(actual: ImageDataset | null, expected: ImageDataset | null, what: string): void {
  assert.ok(actual !== null && expected !== null, what);
  assert.equal(actual.count, expected.count, `${what}: count`);
  assert.deepEqual(actual.classNames, expected.classNames, `${what}: classes`);
  assert.deepEqual(Array.from(actual.labels), Array.from(expected.labels), `${what}: labels`);
  assert.deepEqual(actual.files, expected.files, `${what}: files`);
  assert.ok(Buffer.from(actual.images).equals(Buffer.from(expected.images)), `${what}: pixels`);
}

before(async () => {
  await initBackend();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('runImages', () => {
  it('a train run: the stratified, seeded split training made (image folder), described as training described it', async () => {
    const data = folder(path.join(tmp, 'folder'), ['cat', 'dog', 'ship'], 8);
    const config = resolveTrainConfig({ data, validationCount: 6, splitSeed: 1 });
    const prepared = await prepareData(config);
    const images = await runImages(runWith(config, prepared.record), [32, 32, 3]);
    assertSameImages(images.train, prepared.train, 'train');
    assertSameImages(images.validation, prepared.validation, 'validation');
    assert.equal(images.validationDescription, 'validation (stratified 6 of 24 images, split seed 1)');
    assert.equal(images.validationDescription, prepared.validationDescription);
    assert.equal(images.trainDescription, 'train (18 of 24 images, stratified, split seed 1)');
    assert.deepEqual(images.source, {
      data, dataset: 'auto', limit: null, validationCount: 6, valData: null, splitMethod: 'auto', splitSeed: 1, split: images.trainDescription,
    });
  });

  it('a fine-tuning run: its classes, its first --per-class training images and its held-out images, as finetune chose them', async () => {
    const data = folder(path.join(tmp, 'tune'), ['cat', 'dog', 'ship'], 12);
    const baseDir = path.join(tmp, 'base');
    await saveModel(tinyBase(3), baseDir);
    const base = await loadBaseModel(baseDir);
    const config = resolveFinetuneConfig({ base: baseDir, data, classes: 'ship,cat', perClass: 4, validationCount: 9, splitSeed: 2 });
    const prepared = await prepareFinetuneData(config, base);
    base.model.dispose();
    const images = await runImages(runWith(config, prepared.record), base.metadata.inputShape);
    assertSameImages(images.train, prepared.train, 'train');
    assertSameImages(images.validation, prepared.heldOut, 'held-out');
    assert.deepEqual(images.train.classNames, ['ship', 'cat']);
    assert.equal(images.train.count, 8);
    assert.equal(images.validationDescription, 'held-out (stratified 9 of 36 images, split seed 2, classes ship,cat: 6 images)');
    assert.equal(images.validationDescription, prepared.heldOutDescription);
    assert.equal(images.trainDescription, 'train (27 of 36 images, stratified, split seed 2, classes ship,cat, first 4 per class: 8 images)');
  });

  it('a run saved before --split-method (no data.json): the last records validate, as it trained then', async () => {
    const data = writeTinyCifar(path.join(tmp, 'cifar'));
    const images = await runImages(runWith({ data, dataset: 'cifar10', limit: null, validationCount: 3 }), [32, 32, 3]);
    assert.deepEqual(Array.from(images.train.labels), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(images.train.images.subarray(6 * 3072, 6 * 3072 + 3)), [0, 1, 2].map((c) => pixel(6, 0, c)));
    assert.deepEqual(Array.from(images.validation!.labels), [7, 8, 9]);
    assert.equal(images.trainDescription, 'train (first 7 of 10 images)');
    assert.equal(images.validationDescription, 'validation (last 3 of 10 images)');
    const limited = await runImages(runWith({ data, dataset: 'cifar10', limit: 6, validationCount: 2 }), [32, 32, 3]);
    assert.deepEqual(Array.from(limited.train.labels), [0, 1, 2, 3]);
  });

  it('refuses data that changed since training, and images of another size than the model\'s, in the house format', async () => {
    const data = folder(path.join(tmp, 'changing'), ['cat', 'dog'], 6);
    const config = resolveTrainConfig({ data, validationCount: 4 });
    const run = runWith(config, (await prepareData(config)).record);
    fs.copyFileSync(path.join(JPG_MINI, 'cat', '0010.jpg'), path.join(data, 'cat', '10.jpg'));
    await assert.rejects(runImages(run, [32, 32, 3]), houseError('INSIGHT_E_DATA',
      /^The run's data changed since training: its split no longer has the images data\.json records\. Received: run=".*", data=".*changing", recorded=\{"train":8,"validation":4\}, now=\{"train":9,"validation":4\}\. Restore the data the run used/));
    const cifar = runWith({ data: writeTinyCifar(path.join(tmp, 'cifar-small')), dataset: 'cifar10' });
    await assert.rejects(runImages(cifar, [8, 8, 3]), houseError('INSIGHT_E_DATA',
      /^The run's images must have the model's input size\. Received: images="32x32", model="8x8"\./));
  });
});
