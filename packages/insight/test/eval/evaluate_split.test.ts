// evaluate's data (issue 18 items 1 and 9): an image folder is scored on every class, a train run without --data on
// exactly its own validation images (made again from config.json, or as data.json lists them), and a folder holding
// some of the model's classes is scored on those, matched by name.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { evaluate } from '../../src/eval/evaluate';
import { createModel } from '../../src/models';
import { readDataRecord, recordRunData } from '../../src/run/dataset_source';
import { saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { resolveTrainConfig } from '../../src/train/config';
import { prepareData } from '../../src/train/data_setup';
import { train } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-evaluate-split-'));
const modelDir = path.join(tmp, 'model');
const rowSums = (confusion: number[][]) => confusion.map((row) => row.reduce((a, b) => a + b, 0));

function folderOf(classes: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(tmp, 'folder-'));
  for (const [name, from] of Object.entries(classes)) fs.symlinkSync(path.join(JPG_MINI, from), path.join(root, name));
  return root;
}

function sink(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}

before(async () => {
  await initBackend();
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, classNames: CLASSES, normalization: { kind: 'scale' }, seed: 1 });
  await saveModel(model, modelDir);
  model.dispose();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('evaluate a model on an image folder', () => {
  it('issue 18: the validation split of a class-sorted folder has every class (it was 50 trucks)', async () => {
    const { metrics, split } = await evaluate({ model: modelDir, data: JPG_MINI, workers: 0 });
    assert.equal(split, 'validation (stratified 50 of 500 images, split seed 0)');
    assert.deepEqual(rowSums(metrics.confusion), Array(10).fill(5));
    const seeded = await evaluate({ model: modelDir, data: JPG_MINI, workers: 0, splitSeed: 4, validationCount: 20 });
    assert.equal(seeded.split, 'validation (stratified 20 of 500 images, split seed 4)');
    assert.deepEqual(rowSums(seeded.metrics.confusion), Array(10).fill(2));
  });

  it('issue 18 item 9: a folder with some of the model\'s classes is scored on those, matched by name', async () => {
    const subset = folderOf({ dog: 'dog', cat: 'cat' });
    const { metrics, split } = await evaluate({ model: modelDir, data: subset, split: 'all', workers: 0 });
    assert.equal(split, 'all (100 images), 2 of the model\'s 10 classes');
    assert.deepEqual(metrics.classNames, CLASSES);
    assert.deepEqual(rowSums(metrics.confusion), [0, 0, 0, 50, 0, 50, 0, 0, 0, 0], 'cat is class 3, dog class 5 of the model');
    const both = await evaluate({ model: modelDir, data: JPG_MINI, split: 'all', workers: 0 });
    for (const c of [3, 5]) assert.deepEqual(metrics.confusion[c], both.metrics.confusion[c], 'the same predictions as in the full set');

    const one = await evaluate({ model: modelDir, data: folderOf({ ship: 'ship' }), split: 'all', workers: 0 });
    assert.equal(one.metrics.count, 50);
    assert.deepEqual(one.metrics.confusion[8], both.metrics.confusion[8]);
  });

  it('a class the model does not have is an error naming it', async () => {
    await assert.rejects(evaluate({ model: modelDir, data: folderOf({ cat: 'cat', unicorn: 'dog' }), split: 'all', workers: 0 }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_DATA' && e.message.startsWith(
        'Every class of the data must be one of the model\'s classes (matched by name). Received: absent=["unicorn"], '
        + `classes=${JSON.stringify(CLASSES)}. Remove the images of unicorn (for an image folder: those subfolders), or use a model trained on them.`));
  });
});

describe('evaluate a train run without --data', () => {
  let data: string;
  let runDir: string;
  before(async () => {
    data = path.join(tmp, 'run-data');
    for (const name of ['cat', 'dog', 'ship']) {
      fs.mkdirSync(path.join(data, name), { recursive: true });
      for (let i = 0; i < 12; i++) fs.copyFileSync(path.join(JPG_MINI, name, `${String(i).padStart(4, '0')}.jpg`), path.join(data, name, `${i}.jpg`));
    }
    const result = await train({
      data, epochs: 1, batchSize: 8, validationCount: 9, splitSeed: 5, seed: 2, workers: 0, progress: 'none', tensorboard: false,
      runsDir: path.join(tmp, 'runs'),
    }, { out: sink() });
    result.model.dispose();
    runDir = result.runDir;
  });

  it('issue 18: evaluates exactly the run\'s validation images (3 of each class, split seed 5) and reproduces its report', async () => {
    const report = JSON.parse(fs.readFileSync(RunDir.at(runDir).reportMetricsJson, 'utf8'));
    assert.equal(report.split, 'validation (stratified 9 of 36 images, split seed 5)');
    const { metrics, split } = await evaluate({ model: runDir, workers: 0 });
    assert.equal(split, report.split);
    assert.deepEqual(rowSums(metrics.confusion), [3, 3, 3]);
    assert.deepEqual(metrics.confusion, report.confusion);
    assert.ok(Math.abs(metrics.loss - report.loss) < 1e-5, `${metrics.loss} vs ${report.loss}`);
    const trainPart = await evaluate({ model: runDir, split: 'train', workers: 0 });
    assert.equal(trainPart.split, 'train (27 of 36 images, stratified, split seed 5)');
    assert.deepEqual(rowSums(trainPart.metrics.confusion), [9, 9, 9]);
  });

  it('--bins sets the calibration error\'s bins: one bin is |accuracy - mean confidence|; out of range is refused', async () => {
    const { metrics } = await evaluate({ model: runDir, workers: 0, bins: 4 });
    assert.equal(metrics.calibration!.bins.length, 4);
    assert.equal(metrics.calibration!.bins.reduce((sum, bin) => sum + bin.count, 0), 9);
    const one = (await evaluate({ model: runDir, workers: 0, bins: 1 })).metrics.calibration!;
    assert.equal(one.bins.length, 1);
    assert.ok(Math.abs(one.ece - Math.abs(one.accuracy - one.confidence)) < 1e-6, `${one.ece} vs |${one.accuracy} - ${one.confidence}|`);
    assert.equal((await evaluate({ model: runDir, workers: 0 })).metrics.calibration!.bins.length, 15, 'Guo et al.\'s 15 by default');
    await assert.rejects(evaluate({ model: runDir, workers: 0, bins: 0 }), { code: 'INSIGHT_E_CONFIG',
      message: 'bins must be an integer >= 1 and <= 1000. Received: bins=0. Pass e.g. --bins 15 (default: 15).' });
  });

  it('with data.json, the recorded files: images added since change nothing, a missing one is an error naming it', async () => {
    const run = RunDir.open(runDir);
    const data = await prepareData(resolveTrainConfig(run.readConfig()));
    recordRunData(run, data.record, () => undefined); // what the run writes when it starts
    const recorded = readDataRecord(run)!;
    assert.equal(recorded.validation!.files!.length, 9);
    const first = await evaluate({ model: runDir, workers: 0 });

    const folder = path.join(tmp, 'run-data');
    for (let i = 12; i < 20; i++) fs.copyFileSync(path.join(JPG_MINI, 'cat', `00${i}.jpg`), path.join(folder, 'cat', `${i}.jpg`));
    const remade = await prepareData(resolveTrainConfig(run.readConfig()));
    assert.notDeepEqual(remade.record.validation!.files, recorded.validation!.files, 'the split made again would differ now');
    const later = await evaluate({ model: runDir, workers: 0 });
    assert.deepEqual(later.metrics.confusion, first.metrics.confusion);
    assert.equal(later.metrics.loss, first.metrics.loss);

    fs.rmSync(path.join(folder, recorded.validation!.files![0]));
    await assert.rejects(evaluate({ model: runDir, workers: 0 }), new RegExp(
      `^InsightError: The run's validation images \\(recorded in its data\\.json\\) must still be readable in its data\\. Received: data=".*run-data", missing=1, first="${recorded.validation!.files![0]}"\\.`));
    const changed = await evaluate({ model: runDir, workers: 0, validationCount: 6 });
    assert.equal(changed.split, 'validation (stratified 6 of 43 images, split seed 5)', 'asking for another split makes it from the data as it is');
  });
});
