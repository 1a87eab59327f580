// The distillation loss against a hand computation in float64 on fixed logits (T^2 scaling, the alpha = 0 and
// alpha = 1 limits, saturated teacher probabilities), its gradient with respect to the student's logits against the
// closed form alpha * T * (softmax(s/T) - softmax(t/T)) / batch + (1 - alpha) * (softmax(s) - onehot(y)) / batch, the
// renormalization between two models' preprocessing, and the teacher's part of fit()'s loss.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { distillationLoss, softKl } from '../../../src/compress/distill/loss';
import { renormalizer } from '../../../src/compress/distill/renormalize';
import { teacherLoss } from '../../../src/compress/distill/teacher_loss';
import { normalizeImages, type Normalization } from '../../../src/data';
import { sparseCategoricalCrossentropy } from '../../../src/models/loss';
import { tinyBase } from '../../finetune/tiny_base';

before(async () => {
  await initBackend();
});

// Three examples, four classes: student and teacher logits, labels.
const S = [[1.5, -0.3, 0.2, 2.1], [0.0, 0.7, -1.2, 0.4], [-2.0, 3.1, 0.5, -0.6]];
const TEACHER = [[0.9, 0.1, -0.5, 3.0], [1.2, 2.2, -0.4, 0.1], [-1.1, 4.0, 1.5, -2.3]];
const Y = [3, 1, 2];

/** log softmax of one row in float64 (log-sum-exp with the max taken out). */
function logSoftmax(row: number[]): number[] {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
  return row.map((v) => v - lse);
}
const softmax = (row: number[]) => logSoftmax(row).map(Math.exp);
const scaled = (row: number[], T: number) => row.map((v) => v / T);

/** The loss by hand: alpha T^2 mean_n sum_c p_t (log p_t - log p_s) + (1 - alpha) mean_n -log softmax(s)[y]. */
function handLoss(s: number[][], t: number[][], y: number[], T: number, alpha: number): number {
  let kl = 0;
  let ce = 0;
  for (let n = 0; n < s.length; n++) {
    const logT = logSoftmax(scaled(t[n], T));
    const logS = logSoftmax(scaled(s[n], T));
    kl += logT.reduce((sum, lt, c) => sum + Math.exp(lt) * (lt - logS[c]), 0);
    ce -= logSoftmax(s[n])[y[n]];
  }
  return alpha * T * T * (kl / s.length) + (1 - alpha) * (ce / s.length);
}

/** d loss / d s by the closed form. */
function handGradient(s: number[][], t: number[][], y: number[], T: number, alpha: number): number[][] {
  return s.map((row, n) => {
    const ps = softmax(scaled(row, T));
    const pt = softmax(scaled(t[n], T));
    const p1 = softmax(row);
    return row.map((_, c) => (alpha * T * (ps[c] - pt[c]) + (1 - alpha) * (p1[c] - (c === y[n] ? 1 : 0))) / s.length);
  });
}

function lossOf(s: number[][], t: number[][] | null, y: number[], options: { temperature: number; alpha: number; labelSmoothing?: number }): number {
  return tf.tidy(() => distillationLoss(tf.tensor2d(s), t === null ? null : tf.tensor2d(t), tf.tensor1d(y, 'int32'), options).dataSync()[0]);
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
}

// Tolerances: float32 log-softmax values near -1.4 carry ~1e-7 absolute error each, and the soft term multiplies its
// KL by alpha T^2 (x90 at T = 10): the loss agrees with float64 to 1e-6 times that factor (at least 1e-6); the KL
// itself to 2e-7, and the T^2 scaling is checked exactly (the float32 product of the KL and T^2).
const tolerance = (T: number, alpha: number) => 1e-6 * Math.max(1, alpha * T * T);

describe('distillationLoss', () => {
  for (const [T, alpha] of [[4, 0.9], [1, 0.5], [2.5, 0.3], [10, 1], [4, 0]] as const) {
    it(`equals the hand computation (T = ${T}, alpha = ${alpha})`, () => {
      const expected = handLoss(S, TEACHER, Y, T, alpha);
      const value = lossOf(S, TEACHER, Y, { temperature: T, alpha });
      assert.ok(Math.abs(value - expected) < tolerance(T, alpha), `${value} vs ${expected}`);
    });
  }

  it('alpha = 1 is exactly T^2 x KL (the labels do not matter); alpha = 0 is exactly the cross-entropy (no teacher needed)', () => {
    for (const T of [1, 4, 10]) {
      const kl = handLoss(S, TEACHER, Y, T, 1) / (T * T);
      assert.ok(kl > 1e-3, 'the fixture\'s teacher and student disagree');
      const klF32 = tf.tidy(() => softKl(tf.tensor2d(S), tf.tensor2d(TEACHER), T).dataSync()[0]);
      assert.ok(Math.abs(klF32 - kl) < 2e-7, `KL at T = ${T}: ${klF32} vs ${kl}`);
      for (const labels of [Y, [0, 0, 0]]) assert.equal(lossOf(S, TEACHER, labels, { temperature: T, alpha: 1 }), Math.fround(klF32 * T * T));
    }
    const ce = tf.tidy(() => sparseCategoricalCrossentropy(tf.tensor1d(Y, 'int32'), tf.tensor2d(S)).dataSync()[0]);
    assert.equal(lossOf(S, null, Y, { temperature: 4, alpha: 0 }), ce);
    assert.ok(Math.abs(ce - handLoss(S, TEACHER, Y, 4, 0)) < 1e-6);
    // Label smoothing reaches the cross-entropy term.
    const smoothed = tf.tidy(() => sparseCategoricalCrossentropy(tf.tensor1d(Y, 'int32'), tf.tensor2d(S), 0.1).dataSync()[0]);
    assert.equal(lossOf(S, null, Y, { temperature: 4, alpha: 0, labelSmoothing: 0.1 }), smoothed);
  });

  it('is 0 when the student is the teacher (alpha = 1), and exact where the teacher\'s softmax underflows', () => {
    assert.ok(Math.abs(lossOf(TEACHER, TEACHER, Y, { temperature: 4, alpha: 1 })) < 1e-6);
    // exp(-200) underflows in float32: p_t = 0 for three classes, and 0 * (log p_t - log p_s) must stay 0.
    const sharp = [[200, 0, 0, 0], [0, 0, 0, 200], [0, 0, 0, 0]];
    const value = lossOf(S, sharp, Y, { temperature: 1, alpha: 1 });
    assert.ok(Number.isFinite(value));
    assert.ok(Math.abs(value - handLoss(S, sharp, Y, 1, 1)) < 1e-6 * Math.abs(handLoss(S, sharp, Y, 1, 1)), `${value} vs ${handLoss(S, sharp, Y, 1, 1)}`);
  });

  for (const [T, alpha] of [[4, 0.9], [4, 1], [2, 0.5], [1, 0]] as const) {
    it(`its gradient w.r.t. the student's logits is alpha T (softmax(s/T) - softmax(t/T)) / batch + (1 - alpha)(softmax(s) - onehot) / batch (T = ${T}, alpha = ${alpha})`, () => {
      const grad = tf.tidy(() => {
        const t = tf.tensor2d(TEACHER);
        const y = tf.tensor1d(Y, 'int32');
        return tf.grad((s: tf.Tensor) => distillationLoss(s as tf.Tensor2D, t, y, { temperature: T, alpha }))(tf.tensor2d(S)).arraySync() as number[][];
      });
      assert.ok(maxAbsDiff(grad, handGradient(S, TEACHER, Y, T, alpha)) < 1e-6);
    });
  }
});

describe('renormalizer', () => {
  const bytes = new Uint8Array(Array.from({ length: 2 * 3 * 3 * 3 }, (_, i) => (i * 37) % 256));
  const meanstd: Normalization = { kind: 'meanstd', mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] };
  const other: Normalization = { kind: 'meanstd', mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] };
  for (const [from, to] of [[{ kind: 'scale' }, meanstd], [meanstd, { kind: 'scale' }], [meanstd, other]] as [Normalization, Normalization][]) {
    it(`turns ${from.kind} inputs into what ${to.kind === 'scale' ? 'scale' : `meanstd (mean ${to.mean[0]})`} makes of the same pixels`, () => {
      const convert = renormalizer(from, to)!;
      const converted = tf.tidy(() => convert(tf.tensor4d(normalizeImages(bytes, from), [2, 3, 3, 3])).dataSync());
      const direct = normalizeImages(bytes, to);
      assert.ok(Math.max(...direct.map((v, i) => Math.abs(v - converted[i]))) < 1e-5);
    });
  }

  it('is null for the same normalization (the batch is used as it is)', () => {
    assert.equal(renormalizer({ kind: 'scale' }, { kind: 'scale' }), null);
    assert.equal(renormalizer(meanstd, { ...meanstd }), null);
  });
});

describe('teacherLoss', () => {
  it('runs the teacher in inference mode on the batch in its own normalization, and frees its logits', () => {
    const teacher = tinyBase(3, { classes: 4 }); // BatchNorm: inference mode uses the moving statistics
    const meanstd: Normalization = { kind: 'meanstd', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    const bytes = new Uint8Array(Array.from({ length: 3 * 8 * 8 * 3 }, (_, i) => (i * 53) % 256));
    const before = tf.memory().numTensors;
    const [viaLoss, direct] = tf.tidy(() => {
      const x = tf.tensor4d(normalizeImages(bytes, { kind: 'scale' }), [3, 8, 8, 3]);
      const y = tf.tensor1d(Y, 'int32');
      const s = tf.tensor2d(S);
      const batch = teacherLoss(teacher, { temperature: 2, alpha: 0.7, studentNormalization: { kind: 'scale' }, teacherNormalization: meanstd })(x, y);
      const loss = batch.loss(s);
      batch.dispose();
      const t = teacher.predict(tf.tensor4d(normalizeImages(bytes, meanstd), [3, 8, 8, 3])) as tf.Tensor2D;
      return [loss.dataSync()[0], distillationLoss(s, t, y, { temperature: 2, alpha: 0.7 }).dataSync()[0]];
    });
    assert.ok(Math.abs(viaLoss - direct) < 1e-5, `${viaLoss} vs ${direct}`);
    assert.equal(tf.memory().numTensors, before);
    teacher.dispose();
  });

  it('reads a teacher that outputs probabilities (an ensemble) through their log: the same loss as its logits give', () => {
    const teacher = tinyBase(5, { classes: 4 });
    // The same network with a softmax on top, as an ensemble's graph ends (inference.output 'probabilities').
    const probabilities = tfl.model({ inputs: teacher.inputs, outputs: tfl.layers.activation({ activation: 'softmax' }).apply(teacher.outputs[0]) as tfl.SymbolicTensor });
    const bytes = new Uint8Array(Array.from({ length: 3 * 8 * 8 * 3 }, (_, i) => (i * 29) % 256));
    const [ofLogits, ofLogProbabilities, ofRawProbabilities] = tf.tidy(() => {
      const x = tf.tensor4d(normalizeImages(bytes, { kind: 'scale' }), [3, 8, 8, 3]);
      const y = tf.tensor1d(Y, 'int32');
      const s = tf.tensor2d(S);
      const options = { temperature: 4, alpha: 0.9, studentNormalization: { kind: 'scale' } as const, teacherNormalization: { kind: 'scale' } as const };
      const lossOf = (model: tfl.LayersModel, teacherOutput?: 'logits' | 'probabilities') => {
        const batch = teacherLoss(model, { ...options, teacherOutput })(x, y);
        const value = batch.loss(s).dataSync()[0];
        batch.dispose();
        return value;
      };
      return [lossOf(teacher), lossOf(probabilities, 'probabilities'), lossOf(probabilities)];
    });
    assert.ok(Math.abs(ofLogProbabilities - ofLogits) < 1e-5, `${ofLogProbabilities} vs ${ofLogits}`);
    // Read as logits, probabilities in [0, 1] would give nearly uniform soft targets at T = 4: another loss.
    assert.ok(Math.abs(ofRawProbabilities - ofLogits) > 1e-2, `${ofRawProbabilities} vs ${ofLogits}`);
    teacher.dispose();
  });
});
