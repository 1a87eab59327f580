// evaluate and predict honour the model's inference settings (models/metadata.ts `inference`: output kind,
// temperature, test-time augmentation) and `--tta`: runInference against probabilities and loss computed by hand,
// evaluate with a stored setting equal to the same weights with the flag (and `--tta none` turning a stored one
// off), predict's probabilities recomputed from the decoded pixels, and the CLI flag parsed and refused as it should.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { DataLoader, type ImageDataset } from '../../src/data';
import { InsightError } from '../../src/errors';
import { evaluate } from '../../src/eval/evaluate';
import { runInference } from '../../src/eval/inference';
import { predict } from '../../src/eval/predict';
import { createModel } from '../../src/models';
import { PLAIN_INFERENCE } from '../../src/models/inference_output';
import { getInsightMetadata, setInsightMetadata, type InferenceSettings } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import { runMain } from '../cli/io';
import { JPG_MINI } from '../shared_data';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-inference-settings-'));
/** Two classes of the mini JPEG set (100 images), for evaluate. */
const twoClasses = path.join(tmp, 'data');
const normalization = { kind: 'meanstd' as const, mean: [0.49, 0.48, 0.45] as [number, number, number], std: [0.25, 0.24, 0.26] as [number, number, number] };

/** seed-cnn (seed 3) saved to <tmp>/<name> with `inference` in its metadata; same weights for every name. */
async function savedModel(name: string, inference?: InferenceSettings): Promise<string> {
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, classNames: CLASSES, normalization, seed: 3 });
  if (inference !== undefined) setInsightMetadata(model, { ...getInsightMetadata(model, name), inference });
  const dir = path.join(tmp, name);
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

function softmaxRow(row: ArrayLike<number>): number[] {
  const values = Array.from(row);
  const max = Math.max(...values);
  const e = values.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** x [H][W][C] mirrored left-right, as an array. */
const mirror = (image: number[][][]) => image.map((row) => [...row].reverse());

let plainDir: string;
let flipDir: string;
let warmDir: string;

before(async () => {
  await initBackend();
  fs.mkdirSync(twoClasses);
  for (const name of ['cat', 'ship']) fs.symlinkSync(path.join(JPG_MINI, name), path.join(twoClasses, name));
  plainDir = await savedModel('plain');
  flipDir = await savedModel('flip', { tta: { flip: true, shift: 0 } });
  warmDir = await savedModel('warm', { temperature: 3, tta: { flip: true, shift: 0 } });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('runInference with settings', () => {
  /** 6 seeded 8x8 images of 3 classes and a tiny conv net on them. */
  const dataset: ImageDataset = {
    images: Uint8Array.from({ length: 6 * 8 * 8 * 3 }, (_, i) => (i * 97 + 13) % 256), labels: Int32Array.from([0, 1, 2, 2, 1, 0]),
    count: 6, height: 8, width: 8, channels: 3, classNames: ['a', 'b', 'c'],
  };
  const net = () => tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 11 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 12 }), biasInitializer: 'zeros' }),
    ],
  });
  const loader = () => new DataLoader(dataset, { batchSize: 4, shuffle: false, workers: 0 });
  const xs = () => tf.tidy(() => tf.tensor4d(Float32Array.from(dataset.images, (v) => v / 255), [6, 8, 8, 3]).arraySync());

  it('default: model.apply + softmax bit for bit, loss the mean cross-entropy (as before the seam)', async () => {
    const model = net();
    const result = await runInference(model, loader());
    const [probabilities, losses] = tf.tidy(() => {
      const logits = model.apply(tf.tensor4d(xs()), { training: false }) as tf.Tensor2D;
      const p = tf.softmax(logits);
      return [p.dataSync() as Float32Array, tf.neg(tf.log(tf.gather(tf.reshape(p, [-1]), tf.tensor1d([0, 4, 8, 11, 13, 15], 'int32')))).dataSync() as Float32Array];
    });
    assert.deepEqual(result.probabilities, probabilities);
    assert.ok(Math.abs(result.loss - Array.from(losses).reduce((a, b) => a + b, 0) / 6) < 1e-6, `${result.loss}`);
    model.dispose();
  });

  it('temperature and flip-shift TTA: probabilities the mean of per-view softmax(z / T), loss their mean NLL', async () => {
    const model = net();
    const settings = { ...PLAIN_INFERENCE, temperature: 0.7, tta: { flip: true, shift: 1 } };
    const result = await runInference(model, loader(), 0, settings);
    // By hand: the six views of every image (index arithmetic, reflect padding), each through the model on its own.
    const images = xs();
    const reflect = (i: number) => (i < 0 ? -i : i > 7 ? 14 - i : i);
    const shifted = (image: number[][][], d: number) => image.map((_, i) => image[i].map((__, j) => image[reflect(i - d)][reflect(j - d)]));
    const views = images.map((image) => [image, mirror(image), shifted(image, 1), mirror(shifted(image, 1)), shifted(image, -1), mirror(shifted(image, -1))]);
    const expected = views.map((imageViews) => {
      const z = tf.tidy(() => (model.apply(tf.tensor4d(imageViews), { training: false }) as tf.Tensor2D).arraySync());
      const perView = z.map((row) => softmaxRow(row.map((v) => v / 0.7)));
      return [0, 1, 2].map((c) => perView.reduce((sum, p) => sum + p[c], 0) / 6);
    });
    expected.flat().forEach((p, i) => assert.ok(Math.abs(result.probabilities[i] - p) < 1e-5, `[${i}] ${result.probabilities[i]} vs ${p}`));
    const nll = expected.reduce((sum, p, n) => sum - Math.log(p[dataset.labels[n]]), 0) / 6;
    assert.ok(Math.abs(result.loss - nll) < 1e-4, `loss ${result.loss} vs ${nll}`);
    model.dispose();
  });
});

describe('evaluate', () => {
  const run = (model: string, tta?: string) => evaluate({ model, data: twoClasses, split: 'all', workers: 0, ...(tta === undefined ? {} : { tta }) });

  it('applies the stored TTA; --tta gives the same on a model without it; --tta none turns it off', async () => {
    const plain = await run(plainDir);
    const stored = await run(flipDir);
    const flagged = await run(plainDir, 'flip');
    const off = await run(flipDir, 'none');
    assert.deepEqual(stored.metrics, flagged.metrics);
    assert.deepEqual(off.metrics, plain.metrics);
    assert.notEqual(stored.metrics.loss, plain.metrics.loss, 'flip TTA changes the probabilities');
    assert.equal(stored.metrics.count, 100);
  });

  it('applies the stored temperature: T = 3 with its flip views, against --tta flip alone', async () => {
    const warm = await run(warmDir);
    const flip = await run(flipDir);
    assert.notEqual(warm.metrics.loss, flip.metrics.loss);
    // An untrained net's logits are small, so T = 3 pulls every probability towards 1/10: the loss nears log(10).
    assert.ok(Math.abs(warm.metrics.loss - Math.log(10)) < Math.abs(flip.metrics.loss - Math.log(10)), `${warm.metrics.loss} vs ${flip.metrics.loss}`);
  });

  it('records non-plain settings in metrics.json and the CLI\'s heading; plain reports stay as they were', async () => {
    const out = path.join(tmp, 'report-warm');
    const warm = await evaluate({ model: warmDir, data: twoClasses, split: 'all', workers: 0, out });
    assert.deepEqual(warm.inference, { output: 'logits', temperature: 3, tta: { flip: true, shift: 0 } });
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')).inference, warm.inference);
    const plainOut = path.join(tmp, 'report-plain');
    await evaluate({ model: plainDir, data: twoClasses, split: 'all', workers: 0, out: plainOut });
    assert.equal('inference' in JSON.parse(fs.readFileSync(path.join(plainOut, 'metrics.json'), 'utf8')), false);
    const cli = await runMain(['evaluate', warmDir, '--data', twoClasses, '--split', 'all', '--workers', '0', '--tta', 'flip-shift=2']);
    assert.equal(cli.status, 0, cli.stderr);
    assert.ok(cli.stdout.startsWith(`Model ${warmDir} (temperature 3, test-time augmentation flip-shift=2 (6 views)) on all (100 images), 2 of the model's 10 classes\n`), cli.stdout.split('\n')[0]);
  });

  it('refuses a bad --tta before loading anything, and a shift too large for the model', async () => {
    await assert.rejects(run(plainDir, 'mirror'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
      && e.message.startsWith('tta must be one of: none | flip | shift[=N] | flip-shift[=N]'));
    await assert.rejects(run(plainDir, 'flip-shift=9'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
      && e.message.includes('shift: an integer 0..8 } for a 32x32 input'));
    const { status, stderr } = await runMain(['evaluate', plainDir, '--data', twoClasses, '--tta', 'flip=2']);
    assert.equal(status, 2);
    assert.match(stderr, /^Error INSIGHT_E_CONFIG: tta must be one of/);
  });
});

describe('predict', () => {
  const file = path.join(JPG_MINI, 'cat', '0000.jpg');

  /** The file's probabilities by hand: decode, normalize, the model on the image and its mirror, softmax(z / T), mean. */
  async function byHand(temperature: number, flip: boolean): Promise<number[]> {
    const { data } = await sharp(file).removeAlpha().toColourspace('srgb').resize(32, 32, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const x = tf.tidy(() => tf.tensor4d(Float32Array.from(data, (v, i) => (v / 255 - normalization.mean[i % 3]) / normalization.std[i % 3]), [1, 32, 32, 3]).arraySync());
    const model = await loadModel(plainDir);
    const z = tf.tidy(() => (model.predict(tf.tensor4d(flip ? [x[0], mirror(x[0])] : x)) as tf.Tensor2D).arraySync());
    model.dispose();
    const perView = z.map((row) => softmaxRow(row.map((v) => v / temperature)));
    return CLASSES.map((_, c) => perView.reduce((sum, p) => sum + p[c], 0) / perView.length);
  }

  const probabilities = async (model: string, tta?: string) => {
    const [prediction] = await predict({ model, images: [file], topK: 10, ...(tta === undefined ? {} : { tta }) });
    return CLASSES.map((_, c) => prediction.top.find((t) => t.index === c)!.probability);
  };

  const assertClose = (actual: number[], expected: number[]) =>
    actual.forEach((p, c) => assert.ok(Math.abs(p - expected[c]) < 1e-5, `class ${c}: ${p} vs ${expected[c]}`));

  it('uses the stored temperature and TTA, and --tta overrides the TTA', async () => {
    assertClose(await probabilities(warmDir), await byHand(3, true));
    assertClose(await probabilities(warmDir, 'none'), await byHand(3, false));
    assertClose(await probabilities(plainDir, 'flip'), await byHand(1, true));
    assertClose(await probabilities(plainDir), await byHand(1, false));
  });

  it('insight predict --tta flip prints the TTA probabilities', async () => {
    const { status, stdout, stderr } = await runMain(['predict', plainDir, file, '--tta', 'flip', '--json', '--top-k', '1']);
    assert.equal(status, 0, stderr);
    const [line] = stdout.trim().split('\n').map((l) => JSON.parse(l) as { top: { index: number; probability: number }[] });
    const expected = await byHand(1, true);
    assert.ok(Math.abs(line.top[0].probability - expected[line.top[0].index]) < 1e-5);
    assert.equal(line.top[0].index, expected.indexOf(Math.max(...expected)), 'the most probable class under TTA');
  });
});
