// Sparse categorical cross-entropy from logits, with and without label smoothing, against hand computation.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { sparseCategoricalCrossentropy, sparseCategoricalCrossentropyPerExample } from '../../src/models';

before(async () => {
  await initBackend();
});

const logits = [[2, 1, 0], [0, 0, 3]];
const labels = [0, 1];

/** log-softmax of one row, in float64. */
function logSoftmax(row: number[]): number[] {
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  return row.map((v) => v - lse);
}

describe('sparseCategoricalCrossentropy', () => {
  it('is the mean of -log softmax(logits)[label]', () => {
    const expected = (-logSoftmax(logits[0])[0] - logSoftmax(logits[1])[1]) / 2; // (0.40761 + 3.09492) / 2
    const loss = sparseCategoricalCrossentropy(tf.tensor1d(labels, 'int32'), tf.tensor2d(logits));
    assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5, `${loss.dataSync()[0]} vs ${expected}`);
    assert.ok(Math.abs(expected - 1.751266) < 1e-5);
  });

  it('label smoothing 0.1 uses targets y(1 - 0.1) + 0.1/3 (Keras)', () => {
    const s = 0.1;
    const target = (label: number) => [0, 1, 2].map((c) => (c === label ? 1 - s : 0) + s / 3);
    const rowLoss = (r: number) => -logSoftmax(logits[r]).reduce((sum, lp, c) => sum + target(labels[r])[c] * lp, 0);
    const expected = (rowLoss(0) + rowLoss(1)) / 2;
    const loss = sparseCategoricalCrossentropy(tf.tensor1d(labels, 'int32'), tf.tensor2d(logits), s);
    assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5, `${loss.dataSync()[0]} vs ${expected}`);
  });

  it('uniform logits over 10 classes give log(10)', () => {
    const loss = sparseCategoricalCrossentropy(tf.tensor1d([3], 'int32'), tf.zeros([1, 10]));
    assert.ok(Math.abs(loss.dataSync()[0] - Math.log(10)) < 1e-6);
  });

  it('per-example losses are not reduced', () => {
    const losses = sparseCategoricalCrossentropyPerExample(tf.tensor1d(labels, 'int32'), tf.tensor2d(logits));
    assert.deepEqual(losses.shape, [2]);
    const [a, b] = losses.dataSync();
    assert.ok(Math.abs(a + logSoftmax(logits[0])[0]) < 1e-5 && Math.abs(b + logSoftmax(logits[1])[1]) < 1e-5);
  });
});
