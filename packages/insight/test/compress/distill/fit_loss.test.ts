// fit()'s `loss` option (train/train_step.ts BatchLoss), which distillation plugs its loss into: the cross-entropy
// given through it trains bit for bit like the default loss; it sees each micro-batch's x and y before the tape,
// its logits loss is what the optimizer follows and what the logs report, and what it returns to free is freed.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { DataLoader } from '../../../src/data';
import { sparseCategoricalCrossentropy } from '../../../src/models/loss';
import { paramsOf, Sgd } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import { fit, trainableVariables, type FitOptions } from '../../../src/train/trainer';
import { tinyDataset, tinyModel, weightsOf } from '../../train/tiny';

before(async () => {
  await initBackend();
});

async function fitTiny(options: Partial<FitOptions> = {}) {
  const model = tinyModel(3);
  const optimizer = new Sgd(paramsOf(trainableVariables(model)), { momentum: 0 });
  const train = new DataLoader(tinyDataset(40), { batchSize: 16, seed: 1, workers: 0 });
  const state = await fit(model, train, { epochs: 2, optimizer, schedule: new ConstantSchedule(0.05), seed: 3, gradAccumulation: 2, ...options });
  const weights = weightsOf(model);
  optimizer.dispose();
  model.dispose();
  return { weights, state };
}

describe('fit({ loss })', () => {
  it('the cross-entropy given as `loss` trains exactly like the default; x and y reach it per micro-batch; its tensors are freed', async () => {
    const plain = await fitTiny();
    const seen: string[] = [];
    let disposed = 0;
    const before = tf.memory().numTensors;
    const given = await fitTiny({
      loss: (x, y) => {
        seen.push(`${x.shape.join('x')}/${y.shape.join('x')}`);
        const kept = tf.keep(tf.clone(y)); // what a batch loss may hold across the tape (a teacher's logits)
        return { loss: (logits) => sparseCategoricalCrossentropy(kept, logits), dispose: () => { kept.dispose(); disposed++; } };
      },
    });
    assert.deepEqual(given.weights, plain.weights);
    assert.deepEqual(given.state.history.map((h) => h.loss), plain.state.history.map((h) => h.loss));
    // 40 images in batches of 16: 16, 16, 8 per epoch, two epochs.
    assert.deepEqual(seen, ['16x8x8x3/16', '16x8x8x3/16', '8x8x8x3/8', '16x8x8x3/16', '16x8x8x3/16', '8x8x8x3/8']);
    assert.equal(disposed, 6);
    assert.equal(tf.memory().numTensors, before);
  });

  it('the optimizer follows the given loss, and the logs report it', async () => {
    const initial = weightsOf(tinyModel(3));
    // A loss that does not depend on the logits' values: every gradient is zero, so nothing moves.
    const flat = await fitTiny({ loss: () => ({ loss: (logits) => tf.add(tf.mul(tf.sum(logits), 0), 2.5) as tf.Scalar, dispose: () => undefined }) });
    assert.deepEqual(flat.weights, initial);
    assert.deepEqual(flat.state.history.map((h) => h.loss), [2.5, 2.5]);
  });
});
