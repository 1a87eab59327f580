// The server honours each version's inference settings (models/metadata.ts `inference`: output kind, temperature,
// test-time augmentation) and `--tta`, for tfjs and ONNX versions alike: REST :predict answers checked against the
// model computed by hand per view; the "logits" signature stays consistent (its softmax is the prediction); a
// --tta shift too large for a model fails that version's load with the rule; plain versions answer as before.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { getInsightMetadata, setInsightMetadata, type InferenceSettings } from '../../src/models/metadata';
import { exportOnnx } from '../../src/onnx';
import { loadModel, MODEL_ONNX, saveModel } from '../../src/run/model_io';
import type { ServeInstance } from '../../src/serve/start';
import { backend, CLASSES, instance, NORMALIZATION, referenceProbabilities, tempRepository, testServer, tinyModel } from './helpers';

let root: string;
/** seed-cnn's smallest comfortable input (as in onnx.test.ts), for the ONNX versions. */
const S = 24;

/** Saves `model` with `inference` added to its metadata as <root>/<name>/1 (tfjs), or as model.onnx when `onnx`. */
async function saveWith(name: string, model: tfl.LayersModel, inference: InferenceSettings | undefined, onnx = false): Promise<string> {
  if (inference !== undefined) setInsightMetadata(model, { ...getInsightMetadata(model, name), inference });
  const dir = path.join(root, name, '1');
  if (onnx) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, MODEL_ONNX), exportOnnx(model));
  } else {
    await saveModel(model, dir);
  }
  model.dispose();
  return dir;
}

/** tinyModel(seed) with a softmax on its last layer: its output already is probabilities (as an ensemble's). */
function tinyProbabilityModel(seed: number): tfl.LayersModel {
  const base = tinyModel(seed);
  const model = tfl.sequential({ layers: [...base.layers, tfl.layers.softmax()] });
  model.setUserDefinedMetadata(base.getUserDefinedMetadata()!);
  return model;
}

function seedCnn(seed: number): tfl.LayersModel {
  return createModel('seed-cnn', { inputShape: [S, S, 3], numClasses: CLASSES.length, classNames: CLASSES, normalization: NORMALIZATION, seed });
}

/** A deterministic [size][size][3] instance of normalized floats in [-1, 1). */
function pixels(seed: number, size: number): number[][][] {
  let state = seed * 7919 + 17;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 2000) / 1000 - 1;
  };
  return Array.from({ length: size }, () => Array.from({ length: size }, () => [next(), next(), next()]));
}

const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
const mirror = (image: number[][][]) => image.map((row) => [...row].reverse());
const shifted = (image: number[][][], d: number) => image.map((_, i) => image[i].map((__, j) => image[reflect(i - d, image.length)][reflect(j - d, image.length)]));

/** The TTA views of one image by index arithmetic, in models/tta.ts's order. */
function viewsByHand(image: number[][][], flip: boolean, shift: number): number[][][][] {
  const base = shift > 0 ? [image, shifted(image, shift), shifted(image, -shift)] : [image];
  return flip ? base.flatMap((v) => [v, mirror(v)]) : base;
}

function softmaxRow(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * The served probabilities by hand, for the tfjs model in `dir` (same weights as the version under test): every view
 * through the model on its own, temperature and output kind applied per view, the mean over views.
 */
async function byHand(dir: string, xs: number[][][][], settings: { output: 'logits' | 'probabilities'; temperature: number; flip: boolean; shift: number }): Promise<number[][]> {
  const model = await loadModel(dir);
  try {
    return xs.map((image) => {
      const raw = tf.tidy(() => (model.predict(tf.tensor4d(viewsByHand(image, settings.flip, settings.shift))) as tf.Tensor2D).arraySync());
      const perView = raw.map((row) => {
        const z = settings.output === 'logits' ? row : row.map((p) => Math.log(Math.max(p, 1e-30)));
        return settings.output === 'probabilities' && settings.temperature === 1 ? row : softmaxRow(z.map((v) => v / settings.temperature));
      });
      return perView[0].map((_, c) => perView.reduce((sum, p) => sum + p[c], 0) / perView.length);
    });
  } finally {
    model.dispose();
  }
}

function assertClose(actual: number[][], expected: ArrayLike<number>[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, n) => row.forEach((v, c) => assert.ok(Math.abs(v - expected[n][c]) <= tolerance, `${what}[${n}][${c}]: ${v} vs ${expected[n][c]}`)));
}

async function predict(server: ServeInstance, model: string, xs: number[][][][], signature = 'serving_default'): Promise<number[][]> {
  const res = await server.app.inject({ method: 'POST', url: `/v1/models/${model}:predict`, payload: { signature_name: signature, instances: xs } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { predictions: number[][] }).predictions;
}

let dirs: Record<string, string>;
let stored: ServeInstance;
let noTta: ServeInstance;
let flagged: ServeInstance;
const xs = [instance(1), instance(2), instance(3)];
const bigXs = [pixels(1, S), pixels(2, S)];

before(async () => {
  await backend();
  root = tempRepository();
  const refs = tempRepository();
  dirs = {
    plain: await saveWith('plain', tinyModel(1), undefined),
    warm: await saveWith('warm', tinyModel(2), { temperature: 2.5, tta: { flip: true, shift: 1 } }),
    ens: await saveWith('ens', tinyProbabilityModel(3), { output: 'probabilities' }),
    enscal: await saveWith('enscal', tinyProbabilityModel(4), { output: 'probabilities', temperature: 0.5, tta: { flip: true, shift: 0 } }),
  };
  // ONNX: a seed-cnn with stored settings, and the same weights as a tfjs model outside the repository (the reference).
  const onnxRef = path.join(refs, 'onnx-ref');
  const reference = seedCnn(7);
  await saveModel(reference, onnxRef);
  reference.dispose();
  dirs.onnx = await saveWith('onnx', seedCnn(7), { temperature: 1.5, tta: { flip: true, shift: 2 } }, true);
  dirs.onnxRef = onnxRef;
  stored = await testServer(root);
  noTta = await testServer(root, { tta: 'none' });
  flagged = await testServer(root, { tta: 'flip-shift=2' });
});
after(async () => {
  await Promise.all([stored.close(), noTta.close(), flagged.close()]);
});

describe('serve: inference settings', () => {
  it('a version without settings answers as before: the softmax of the logits', async () => {
    assertClose(await predict(stored, 'plain', xs), chunk(await referenceProbabilities(dirs.plain, xs), CLASSES.length), 1e-6, 'plain');
  });

  it('stored temperature and TTA (flip + 1-pixel shifts): the mean of six views\' softmax(z / T)', async () => {
    const expected = await byHand(dirs.warm, xs, { output: 'logits', temperature: 2.5, flip: true, shift: 1 });
    assertClose(await predict(stored, 'warm', xs), expected, 1e-5, 'warm');
    // The "logits" signature is log of those probabilities: its softmax is the default output.
    const logits = await predict(stored, 'warm', xs, 'logits');
    assertClose(logits.map(softmaxRow), expected, 1e-5, 'softmax(logits)');
  });

  it('--tta none turns a stored TTA off (the temperature stays); --tta flip-shift=2 applies to every version', async () => {
    assertClose(await predict(noTta, 'warm', xs), await byHand(dirs.warm, xs, { output: 'logits', temperature: 2.5, flip: false, shift: 0 }), 1e-5, 'none');
    const logits = await predict(noTta, 'warm', xs, 'logits');
    const z = await rawOutputs(dirs.warm, xs);
    assertClose(logits, z.map((row) => row.map((v) => v / 2.5)), 1e-5, 'logits / T');
    assertClose(await predict(flagged, 'plain', xs), await byHand(dirs.plain, xs, { output: 'logits', temperature: 1, flip: true, shift: 2 }), 1e-5, 'flagged');
    assertClose(await predict(flagged, 'warm', xs), await byHand(dirs.warm, xs, { output: 'logits', temperature: 2.5, flip: true, shift: 2 }), 1e-5, 'flagged warm');
  });

  it('output "probabilities": served as the model gives them; "logits" are their logs; with T and TTA, as by hand', async () => {
    const p = await rawOutputs(dirs.ens, xs);
    assertClose(await predict(stored, 'ens', xs), p, 1e-6, 'probabilities as given');
    assertClose(await predict(stored, 'ens', xs, 'logits'), p.map((row) => row.map((v) => Math.log(v))), 1e-5, 'log p');
    assertClose(await predict(stored, 'enscal', xs), await byHand(dirs.enscal, xs, { output: 'probabilities', temperature: 0.5, flip: true, shift: 0 }), 1e-5, 'enscal');
  });

  it('an ONNX version applies its stored settings, its views run through the session as one batch', async () => {
    const expected = await byHand(dirs.onnxRef, bigXs, { output: 'logits', temperature: 1.5, flip: true, shift: 2 });
    assertClose(await predict(stored, 'onnx', bigXs), expected, 1e-4, 'onnx');
    assertClose(await predict(noTta, 'onnx', bigXs), await byHand(dirs.onnxRef, bigXs, { output: 'logits', temperature: 1.5, flip: false, shift: 0 }), 1e-4, 'onnx, --tta none');
  });

  it('metadata (TF Serving\'s insight entry, KServe v2\'s parameters) reports the settings applied', async () => {
    const v1 = async (server: ServeInstance, model: string) => (await server.app.inject({ method: 'GET', url: `/v1/models/${model}/metadata` })).json().metadata.insight.inference;
    const v2 = async (server: ServeInstance, model: string) => (await server.app.inject({ method: 'GET', url: `/v2/models/${model}` })).json().parameters.inference;
    assert.deepEqual(await v1(stored, 'plain'), { output: 'logits', temperature: 1, tta: { flip: false, shift: 0 } });
    assert.deepEqual(await v1(stored, 'warm'), { output: 'logits', temperature: 2.5, tta: { flip: true, shift: 1 } });
    assert.deepEqual(await v2(noTta, 'warm'), { output: 'logits', temperature: 2.5, tta: { flip: false, shift: 0 } });
    assert.deepEqual(await v2(flagged, 'ens'), { output: 'probabilities', temperature: 1, tta: { flip: true, shift: 2 } });
    assert.deepEqual(await v1(stored, 'onnx'), { output: 'logits', temperature: 1.5, tta: { flip: true, shift: 2 } });
  });

  it('a --tta shift too large for a model fails that version\'s load with the rule; the others serve', async () => {
    const server = await testServer(root, { tta: 'shift=3' }); // tiny models are 8x8 (at most 2); seed-cnn here 24x24 (at most 6)
    try {
      const [version] = (await server.app.inject({ method: 'GET', url: '/v1/models/plain' })).json().model_version_status;
      assert.equal(version.state, 'END');
      assert.equal(version.status.error_message, 'Test-time augmentation must be { flip: true|false, shift: an integer 0..2 } for a 8x8 input ' +
        '(shifts up to a quarter of the image side). Received: source="--tta", tta={"flip":false,"shift":3}. Pass --tta with a shift of at most 2, e.g. --tta flip-shift=1.');
      const index = await server.app.inject({ method: 'POST', url: '/v2/repository/index', payload: {} });
      const entries = index.json() as { name: string; state: string; reason: string }[];
      const plain = entries.find((e) => e.name === 'plain')!;
      assert.equal(plain.state, 'UNAVAILABLE');
      assert.match(plain.reason, /Test-time augmentation must be \{ flip: true\|false, shift: an integer 0\.\.2 \} for a 8x8 input/);
      assert.equal(entries.find((e) => e.name === 'onnx')!.state, 'READY');
    } finally {
      await server.close();
    }
  });
});

/** The model's own outputs (no settings applied), [n][classes]. */
async function rawOutputs(dir: string, instances: number[][][][]): Promise<number[][]> {
  const model = await loadModel(dir);
  try {
    return tf.tidy(() => (model.predict(tf.tensor4d(instances)) as tf.Tensor2D).arraySync());
  } finally {
    model.dispose();
  }
}

function chunk(values: Float32Array, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, n) => Array.from(values.subarray(n * width, (n + 1) * width)));
}
