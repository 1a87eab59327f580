// Gradient accumulation on its own: one micro-batch passes its gradients through untouched; several average
// weighted by batch size (the mean over all their examples); an update is due every n micro-batches and at the
// end of an epoch.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { GradientAccumulator } from '../../src/train/gradient_accumulator';

before(async () => {
  await initBackend();
});

describe('GradientAccumulator', () => {
  it('with one micro-batch per update, hands back the very tensors it was given', () => {
    const acc = new GradientAccumulator(1);
    const grads = [tf.tensor1d([1, 2]), tf.scalar(3)];
    acc.add(grads, 16);
    assert.equal(acc.isDue(false), true);
    const taken = acc.take();
    assert.equal(taken.examples, 16);
    assert.equal(taken.grads, grads);
    tf.dispose(taken.grads);
  });

  it('averages micro-batch means weighted by their sizes, due every n and at the epoch end; frees what it holds', () => {
    const before = tf.memory().numTensors;
    const acc = new GradientAccumulator(3);
    acc.add([tf.tensor1d([1, 10])], 4);
    assert.equal(acc.microBatch, 1);
    assert.equal(acc.isDue(false), false);
    acc.add([tf.tensor1d([4, 40])], 2);
    assert.equal(acc.isDue(false), false);
    assert.equal(acc.isDue(true), true, 'the epoch ended: a short update');
    const { grads, examples } = acc.take();
    assert.equal(examples, 6);
    // (1·4 + 4·2) / 6 = 2, (10·4 + 40·2) / 6 = 20
    assert.deepEqual(Array.from(grads[0].dataSync()), [2, 20]);
    tf.dispose(grads);
    assert.equal(acc.microBatch, 0);
    acc.add([tf.tensor1d([1, 1])], 1);
    acc.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
