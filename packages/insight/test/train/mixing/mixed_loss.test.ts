// The mixed batch's loss: the cross-entropy with the soft target λ·smooth(y) + (1-λ)·smooth(y[perm]), checked against
// a float64 computation by hand and against λ·CE(y) + (1-λ)·CE(y[perm]) with the house loss (models/loss.ts).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { sparseCategoricalCrossentropy } from '../../../src/models/loss';
import { mixedCrossEntropy } from '../../../src/train/mixing';

before(async () => {
  await initBackend();
});

const LOGITS = [
  [2.0, -1.0, 0.5, 0.0, 1.5],
  [-0.3, 0.8, 3.1, -2.2, 0.0],
  [1.1, 1.1, -0.4, 0.9, -1.7],
  [0.0, -2.5, 0.7, 2.4, 0.3],
];
const LABELS = [0, 2, 1, 3];
const PARTNERS = [3, 0, 4, 1];

/** -Σ_c t[c]·log_softmax(z)[c], averaged over rows, in float64 with t = λ·smooth(y) + (1-λ)·smooth(y'). */
function byHand(lambda: number, smoothing: number): number {
  let total = 0;
  for (let i = 0; i < LOGITS.length; i++) {
    const z = LOGITS[i];
    const max = Math.max(...z);
    const logSum = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    for (let c = 0; c < z.length; c++) {
      const smooth = (label: number) => (label === c ? 1 : 0) * (1 - smoothing) + smoothing / z.length;
      const target = lambda * smooth(LABELS[i]) + (1 - lambda) * smooth(PARTNERS[i]);
      total -= target * (z[c] - logSum);
    }
  }
  return total / LOGITS.length;
}

describe('mixed cross-entropy', () => {
  for (const [lambda, smoothing] of [[0.65, 0], [0.65, 0.1], [0.5, 0.2], [1, 0.1]]) {
    it(`λ ${lambda}, label smoothing ${smoothing}: equals the soft-target cross-entropy by hand and λ·CE(y) + (1-λ)·CE(y[perm])`, () => {
      const logits = tf.tensor2d(LOGITS);
      const labels = tf.tensor1d(LABELS, 'int32');
      const partners = tf.tensor1d(PARTNERS, 'int32');
      const loss = mixedCrossEntropy(labels, partners, lambda, smoothing, logits);
      const value = loss.dataSync()[0];
      const expected = byHand(lambda, smoothing);
      assert.ok(Math.abs(value - expected) < 1e-6, `${value} vs ${expected}`);
      const own = sparseCategoricalCrossentropy(labels, logits, smoothing);
      const other = sparseCategoricalCrossentropy(partners, logits, smoothing);
      const split = lambda * own.dataSync()[0] + (1 - lambda) * other.dataSync()[0];
      assert.ok(Math.abs(value - split) < 1e-6, `${value} vs ${split}`);
      tf.dispose([logits, labels, partners, loss, own, other]);
    });
  }

  it('has the gradient of the soft target: softmax(z) - t, over the batch size', () => {
    const logits = tf.tensor2d(LOGITS);
    const labels = tf.tensor1d(LABELS, 'int32');
    const partners = tf.tensor1d(PARTNERS, 'int32');
    const grad = tf.grad((z: tf.Tensor) => mixedCrossEntropy(labels, partners, 0.7, 0.1, z as tf.Tensor2D))(logits);
    const g = grad.arraySync() as number[][];
    for (let i = 0; i < LOGITS.length; i++) {
      const z = LOGITS[i];
      const sum = z.reduce((s, v) => s + Math.exp(v), 0);
      for (let c = 0; c < z.length; c++) {
        const smooth = (label: number) => (label === c ? 0.9 : 0) + 0.1 / z.length;
        const target = 0.7 * smooth(LABELS[i]) + 0.3 * smooth(PARTNERS[i]);
        assert.ok(Math.abs(g[i][c] - (Math.exp(z[c]) / sum - target) / LOGITS.length) < 1e-6, `row ${i} class ${c}`);
      }
    }
    tf.dispose([logits, labels, partners, grad]);
  });
});
