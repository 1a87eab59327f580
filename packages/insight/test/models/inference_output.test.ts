// The inference seam: what evaluate, predict and serve report from a model's output. Checked against numbers
// computed by hand (softmax in JS): the plain path is model output → softmax bit for bit; an output of
// probabilities is reported as is with log-probabilities as its "logits"; temperature divides the logits; TTA
// averages the per-view probabilities of one batched forward pass; the settings are checked with house errors.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import {
  describeInference, inferenceOutputs, inferenceViews, isPlainInference, MIN_LOG_PROBABILITY, outputsOfViews, PLAIN_INFERENCE, resolveInference, type ResolvedInference,
} from '../../src/models/inference_output';
import type { InferenceSettings } from '../../src/models/metadata';
import { ttaViews } from '../../src/models/tta';

before(async () => {
  await initBackend();
});

const S = 8;
const CLASSES = 3;

/** A seeded conv net [S, S, 3] → 3 logits whose output depends on position (so flips and shifts change it). */
function tinyNet(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: CLASSES, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }), biasInitializer: 'zeros' }),
    ],
  });
}

/** A deterministic batch [n, S, S, 3] of values in [-1, 1). */
function batch(n: number, seed = 1): tf.Tensor4D {
  let state = seed * 7919 + 1;
  const values = Float32Array.from({ length: n * S * S * 3 }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 2000) / 1000 - 1;
  });
  return tf.tensor4d(values, [n, S, S, 3]);
}

/** Softmax of one row, in float64. */
function softmaxRow(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const settings = (s: Partial<ResolvedInference>): ResolvedInference => ({ ...PLAIN_INFERENCE, ...s });

describe('inferenceOutputs', () => {
  it('without settings gives exactly model.apply + softmax (bit for bit) and the logits themselves', () => {
    const model = tinyNet();
    const x = batch(5);
    const forward = (input: tf.Tensor4D) => model.apply(input, { training: false }) as tf.Tensor2D;
    const out = tf.tidy(() => {
      const o = inferenceOutputs(forward, x, PLAIN_INFERENCE);
      return [o.logits.dataSync(), o.probabilities.dataSync()];
    });
    const reference = tf.tidy(() => {
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      return [logits.dataSync(), tf.softmax(logits).dataSync()];
    });
    assert.deepEqual(out[0], reference[0]);
    assert.deepEqual(out[1], reference[1]);
    assert.ok(isPlainInference(PLAIN_INFERENCE));
    x.dispose();
    model.dispose();
  });

  it('output "probabilities": reported as given, "logits" = log(max(p, 1e-30)), and softmax(logits) = p', () => {
    const p = [[0.7, 0.2, 0.1], [0.25, 0.25, 0.5], [1, 0, 0]];
    const [logits, probabilities, again] = tf.tidy(() => {
      const out = outputsOfViews(tf.tensor2d(p), 1, settings({ output: 'probabilities' }));
      return [out.logits.arraySync(), out.probabilities.arraySync(), tf.softmax(out.logits).arraySync()];
    });
    assert.deepEqual(probabilities, p.map((row) => row.map(Math.fround)));
    assertClose(logits.flat(), p.flat().map((v) => Math.log(Math.max(v, MIN_LOG_PROBABILITY))), 1e-5, 'logits');
    assert.ok(Number.isFinite(logits[2][1]) && Math.abs(logits[2][1] - Math.log(1e-30)) < 1e-4, 'a zero probability has a finite log');
    assertClose(again.flat(), p.flat(), 1e-6, 'softmax(log p)');
  });

  it('temperature divides the logits: probabilities = softmax(z / T), reported logits z / T', () => {
    const z = [[2, -1, 0.5], [0, 0, 3]];
    const [logits, probabilities] = tf.tidy(() => {
      const out = outputsOfViews(tf.tensor2d(z), 1, settings({ temperature: 2.5 }));
      return [out.logits.arraySync(), out.probabilities.arraySync()];
    });
    assertClose(logits.flat(), z.flat().map((v) => v / 2.5), 1e-6, 'logits');
    assertClose(probabilities.flat(), z.flatMap((row) => softmaxRow(row.map((v) => v / 2.5))), 1e-6, 'probabilities');
    // Sharper below 1.
    const sharp = tf.tidy(() => outputsOfViews(tf.tensor2d(z), 1, settings({ temperature: 0.5 })).probabilities.arraySync());
    assertClose(sharp.flat(), z.flatMap((row) => softmaxRow(row.map((v) => v / 0.5))), 1e-6, 'T = 0.5');
  });

  it('temperature on an output of probabilities: softmax(log p / T) = p^(1/T) renormalized', () => {
    const p = [[0.7, 0.2, 0.1], [0.05, 0.15, 0.8]];
    const probabilities = tf.tidy(() => outputsOfViews(tf.tensor2d(p), 1, settings({ output: 'probabilities', temperature: 2 })).probabilities.arraySync());
    const byHand = p.flatMap((row) => {
      const r = row.map((v) => v ** 0.5);
      const sum = r.reduce((a, b) => a + b, 0);
      return r.map((v) => v / sum);
    });
    assertClose(probabilities.flat(), byHand, 1e-6, 'p^(1/T)');
  });

  it('TTA: one forward pass on every view; probabilities = the mean of the per-view probabilities; logits their log', () => {
    const model = tinyNet();
    const x = batch(4, 2);
    const tta = { flip: true, shift: 1 };
    const calls: number[][] = [];
    const forward = (input: tf.Tensor4D) => {
      calls.push(input.shape);
      return model.apply(input, { training: false }) as tf.Tensor2D;
    };
    const resolved = settings({ temperature: 1.5, tta });
    const [logits, probabilities] = tf.tidy(() => {
      const out = inferenceOutputs(forward, x, resolved);
      return [out.logits.arraySync(), out.probabilities.arraySync()];
    });
    assert.deepEqual(calls, [[24, S, S, 3]], 'one batched pass of 6 views x 4 images');
    assert.equal(inferenceViews(resolved), 6);
    // By hand: each view through the model on its own, softmax(z / T) in float64, then the mean over the 6 views.
    const views = tf.tidy(() => ttaViews(x, tta).arraySync());
    const perView = Array.from({ length: 6 }, (_, k) => tf.tidy(() =>
      (model.apply(tf.tensor4d(views.slice(4 * k, 4 * k + 4)), { training: false }) as tf.Tensor2D).arraySync()));
    const expected = Array.from({ length: 4 }, (_, n) => Array.from({ length: CLASSES }, (_, c) =>
      perView.reduce((sum, view) => sum + softmaxRow(view[n].map((v) => v / 1.5))[c], 0) / 6));
    assertClose(probabilities.flat(), expected.flat(), 1e-5, 'probabilities');
    assertClose(logits.flat(), expected.flat().map(Math.log), 1e-4, 'logits = log p');
    // The views matter: the mean differs from the original view's probabilities.
    const original = perView[0].flatMap((row) => softmaxRow(row.map((v) => v / 1.5)));
    assert.ok(original.some((v, i) => Math.abs(v - expected.flat()[i]) > 1e-3), 'TTA changes the probabilities');
    x.dispose();
    model.dispose();
  });

  it('TTA on an output of probabilities averages them as given', () => {
    // Two views of two images, view-major: rows [view0 img0, view0 img1, view1 img0, view1 img1].
    const raw = [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.4, 0.5, 0.1], [0.0, 0.4, 0.6]];
    const probabilities = tf.tidy(() => outputsOfViews(tf.tensor2d(raw), 2, settings({ output: 'probabilities', tta: { flip: true, shift: 0 } })).probabilities.arraySync());
    assertClose(probabilities.flat(), [0.5, 0.4, 0.1, 0.1, 0.3, 0.6], 1e-6, 'mean');
    assert.throws(() => tf.tidy(() => outputsOfViews(tf.tensor2d(raw.slice(0, 3)), 2, PLAIN_INFERENCE).probabilities), /3 rows are not 2 views/);
  });

  it('frees every intermediate tensor inside tidy', () => {
    const model = tinyNet();
    const x = batch(3);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => inferenceOutputs((input) => model.apply(input, { training: false }) as tf.Tensor2D, x,
      settings({ output: 'logits', temperature: 2, tta: { flip: true, shift: 2 } })).probabilities);
    assert.equal(tf.memory().numTensors, before + 1);
    tf.dispose([out, x]);
    model.dispose();
  });
});

describe('resolveInference', () => {
  const meta = (inference?: InferenceSettings) => ({ inputShape: [32, 32, 3] as [number, number, number], inference });

  it('defaults to plain; keeps stored settings; --tta overrides the stored TTA, and none turns it off', () => {
    assert.deepEqual(resolveInference(meta(), 'm'), { output: 'logits', temperature: 1, tta: { flip: false, shift: 0 } });
    const stored = meta({ output: 'probabilities', temperature: 1.7, tta: { flip: true, shift: 2 } });
    assert.deepEqual(resolveInference(stored, 'm'), { output: 'probabilities', temperature: 1.7, tta: { flip: true, shift: 2 } });
    assert.deepEqual(resolveInference(stored, 'm', { flip: false, shift: 0 }).tta, { flip: false, shift: 0 });
    assert.deepEqual(resolveInference(stored, 'm', { flip: true, shift: 1 }), { output: 'probabilities', temperature: 1.7, tta: { flip: true, shift: 1 } });
    assert.deepEqual(resolveInference(meta(), 'm', { flip: true, shift: 0 }).tta, { flip: true, shift: 0 });
    assert.equal(isPlainInference(resolveInference(stored, 'm', { flip: false, shift: 0 })), false);
  });

  it('describes the settings in one line', () => {
    assert.equal(describeInference(PLAIN_INFERENCE), 'softmax of the logits');
    assert.equal(describeInference(settings({ temperature: 1.5, tta: { flip: true, shift: 1 } })), 'temperature 1.5, test-time augmentation flip-shift=1 (6 views)');
    assert.equal(describeInference(settings({ output: 'probabilities', tta: { flip: false, shift: 2 } })), 'the model outputs probabilities, test-time augmentation shift=2 (3 views)');
  });

  it('refuses bad stored settings (INSIGHT_E_MODEL) and a --tta shift too large for the model (INSIGHT_E_CONFIG)', () => {
    const is = (code: string, text: string) => (e: unknown) => e instanceof InsightError && e.code === code && e.message.includes(text);
    assert.throws(() => resolveInference(meta({ temperature: -1 }), 'runs/a/model'),
      is('INSIGHT_E_MODEL', 'A model\'s inference.temperature must be a finite number > 0. Received: model="runs/a/model", temperature=-1.'));
    assert.throws(() => resolveInference(meta({ temperature: 0 }), 'm'), is('INSIGHT_E_MODEL', 'temperature=0'));
    assert.throws(() => resolveInference(meta({ output: 'scores' as 'logits' }), 'm'), is('INSIGHT_E_MODEL', 'inference.output must be \'logits\' or \'probabilities\''));
    assert.throws(() => resolveInference(meta({ tta: { flip: true, shift: 9 } }), 'm'), is('INSIGHT_E_MODEL', 'source="m inference.tta"'));
    assert.throws(() => resolveInference(meta(), 'm', { flip: true, shift: 9 }), is('INSIGHT_E_CONFIG', 'shift: an integer 0..8 } for a 32x32 input'));
  });
});
