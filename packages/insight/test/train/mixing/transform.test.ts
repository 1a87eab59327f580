// Mixing as the training step's BatchTransform: a function of (seed, step, micro-batch, rank) alone, its tensors
// freed, batch shares as --mix-prob and --mix-switch-prob say, and in fit(): a run repeats bit for bit and a resumed
// run equals the uninterrupted one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { DataLoader } from '../../../src/data';
import { readCheckpoint, restoreWeights } from '../../../src/run/checkpoint';
import { ModelCheckpoint } from '../../../src/train/callbacks/model_checkpoint';
import { mixingTransform, planMix, type MixingSettings } from '../../../src/train/mixing';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import type { TrainerState } from '../../../src/train/state';
import { trainStep } from '../../../src/train/train_step';
import { fit, trainableVariables, type FitOptions } from '../../../src/train/trainer';
import { tinyDataset, tinyModel, weightsOf } from '../tiny';

before(async () => {
  await initBackend();
});

const BOTH: MixingSettings = { mixup: 0.4, cutmix: 1, mixProb: 0.8, mixSwitchProb: 0.5 };
const at = (step: number, microBatch = 0, rank = 0) => ({ seed: 5, step, microBatch, rank });

function batch(n = 6, size = 8): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const data = tinyDataset(n, size, 3);
  return { x: tf.tidy(() => tf.div(tf.tensor4d(data.images, [n, size, size, 3], 'float32'), 255) as tf.Tensor4D), y: tf.tensor1d(data.labels, 'int32') };
}

describe('mixingTransform', () => {
  it('is absent when neither Mixup nor CutMix is on (or no batch is mixed)', () => {
    assert.equal(mixingTransform({ mixup: 0, cutmix: 0, mixProb: 1, mixSwitchProb: 0.5 }, 0), undefined);
    assert.equal(mixingTransform({ mixup: 0.2, cutmix: 0, mixProb: 0, mixSwitchProb: 0.5 }, 0), undefined);
  });

  it('gives the same input and loss for the same position, others for another step, micro-batch or rank; frees its tensors', () => {
    const transform = mixingTransform({ ...BOTH, mixProb: 1 }, 0.1)!;
    const model = tinyModel(1);
    const { x, y } = batch();
    const logits = tf.randomNormal([6, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const run = (position: ReturnType<typeof at>) => {
      const out = transform(x, y, model, position);
      const loss = out.loss!(logits);
      const result = { x: Array.from(out.x.dataSync()), loss: loss.dataSync()[0] };
      loss.dispose();
      out.dispose();
      return result;
    };
    const first = run(at(3));
    assert.deepEqual(run(at(3)), first);
    assert.notDeepEqual(run(at(4)).x, first.x);
    assert.notDeepEqual(run(at(3, 1)).x, first.x);
    assert.notDeepEqual(run(at(3, 0, 1)).x, first.x);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y, logits]);
    model.dispose();
  });

  it('leaves an unmixed batch as it is (no loss of its own)', () => {
    const transform = mixingTransform({ mixup: 0.2, cutmix: 0, mixProb: 0.5, mixSwitchProb: 0.5 }, 0)!;
    const step = Array.from({ length: 50 }, (_, s) => s).find((s) => planMix({ mixup: 0.2, cutmix: 0, mixProb: 0.5, mixSwitchProb: 0.5 }, 6, 8, 8, at(s)).kind === 'none')!;
    const model = tinyModel(1);
    const { x, y } = batch();
    const out = transform(x, y, model, at(step));
    assert.equal(out.x, x);
    assert.equal(out.loss, undefined);
    out.dispose();
    assert.equal(x.isDisposed, false);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('mixes --mix-prob of the batches and uses CutMix in --mix-switch-prob of those; λ ≥ 0.5 always', () => {
    const settings: MixingSettings = { mixup: 0.2, cutmix: 1, mixProb: 0.6, mixSwitchProb: 0.25 };
    const kinds = { none: 0, mixup: 0, cutmix: 0 };
    const draws = 4000;
    let lambdaSum = 0;
    for (let step = 0; step < draws; step++) {
      const plan = planMix(settings, 4, 8, 8, at(step));
      kinds[plan.kind]++;
      if (plan.kind !== 'none') {
        assert.ok(plan.lambda >= 0.5 && plan.lambda <= 1);
        if (plan.kind === 'mixup') lambdaSum += plan.lambda;
      }
    }
    const mixed = kinds.mixup + kinds.cutmix;
    assert.ok(Math.abs(mixed / draws - 0.6) < 0.04, `mixed ${mixed} of ${draws}`);
    assert.ok(Math.abs(kinds.cutmix / mixed - 0.25) < 0.04, `cutmix ${kinds.cutmix} of ${mixed}`);
    // Mixup's λ = max(u, 1-u), u ~ Beta(0.2, 0.2): E = 1/2 + E|u - 1/2|, about 0.87 for α = 0.2 (most draws near 0 or 1).
    const meanLambda = lambdaSum / kinds.mixup;
    assert.ok(meanLambda > 0.8 && meanLambda < 0.95, `mean λ ${meanLambda}`);
  });

  it('in a training step: the loss is the mixed one and the correct count is against y (the dominant label)', async () => {
    const model = tinyModel(2);
    const variables = trainableVariables(model);
    const data = tinyDataset(8, 8, 3);
    const pixels = new Float32Array(data.images.length);
    for (let i = 0; i < pixels.length; i++) pixels[i] = data.images[i] / 255;
    const settings: MixingSettings = { mixup: 0.4, cutmix: 0, mixProb: 1, mixSwitchProb: 0.5 };
    const position = at(7);
    const plan = planMix(settings, 8, 8, 8, position);
    assert.equal(plan.kind, 'mixup');
    if (plan.kind !== 'mixup') return;
    const result = await trainStep(model, variables, { x: pixels, y: data.labels, size: 8 }, {
      height: 8, width: 8, labelSmoothing: 0.1, ...position, transform: mixingTransform(settings, 0.1),
    });
    // By hand: the model on λx + (1-λ)x[perm], the soft-target loss and argmax against y.
    const expected = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [8, 8, 8, 3]);
      const perm = tf.tensor1d(Int32Array.from(plan.permutation), 'int32');
      const mixed = tf.add(tf.mul(x, plan.lambda), tf.mul(tf.gather(x, perm), 1 - plan.lambda));
      const logits = model.apply(mixed, { training: true }) as tf.Tensor2D;
      const y = tf.tensor1d(data.labels, 'int32');
      const target = tf.add(tf.mul(tf.oneHot(y, 3), plan.lambda), tf.mul(tf.oneHot(tf.gather(y, perm) as tf.Tensor1D, 3), 1 - plan.lambda));
      const loss = tf.losses.softmaxCrossEntropy(target, logits, undefined, 0.1);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'));
      return [loss.dataSync()[0], correct.dataSync()[0]];
    });
    assert.ok(Math.abs(result.loss - expected[0]) < 1e-6, `${result.loss} vs ${expected[0]}`);
    assert.equal(result.correct, expected[1]);
    tf.dispose(result.grads);
    model.dispose();
  });
});

describe('fit() with mixing', () => {
  const setup = () => {
    const model = tinyModel(21, { dropout: 0.3 });
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const options: FitOptions = { epochs: 2, optimizer, seed: 9, labelSmoothing: 0.1, schedule: new ConstantSchedule(0.01), transform: mixingTransform(BOTH, 0.1) };
    return { model, optimizer, options, train: new DataLoader(tinyDataset(80), { batchSize: 16, seed: 4, shuffle: true, workers: 0 }) };
  };

  it('repeats bit for bit; 2 epochs straight = 1 epoch + checkpoint + resume + 1 epoch; unmixed training differs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-mixing-'));
    const straight = setup();
    const straightState = await fit(straight.model, straight.train, straight.options);
    const again = setup();
    await fit(again.model, again.train, again.options);
    assert.deepEqual(weightsOf(again.model), weightsOf(straight.model));

    const plain = setup();
    await fit(plain.model, plain.train, { ...plain.options, transform: undefined });
    assert.notDeepEqual(weightsOf(plain.model), weightsOf(straight.model));

    const first = setup();
    const last = path.join(dir, 'last');
    await fit(first.model, first.train, { ...first.options, epochs: 1, callbacks: [new ModelCheckpoint({ lastDir: last, bestDir: path.join(dir, 'best'), monitor: 'loss' })] });
    const resumed = setup();
    const checkpoint = await readCheckpoint<TrainerState>(last);
    restoreWeights(resumed.model, checkpoint.weights, checkpoint.dir);
    resumed.optimizer.setState(checkpoint.optimizerState);
    tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
    const resumedState = await fit(resumed.model, resumed.train, { ...resumed.options, initialState: checkpoint.trainer });
    assert.deepEqual(weightsOf(resumed.model), weightsOf(straight.model));
    assert.deepEqual(resumedState.history.map((h) => [h.loss, h.accuracy]), straightState.history.map((h) => [h.loss, h.accuracy]));
    for (const s of [straight, again, plain, first, resumed]) {
      s.optimizer.dispose();
      s.model.dispose();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the number of live tensors flat', async () => {
    const s = setup();
    await fit(s.model, s.train, { ...s.options, epochs: 1 });
    const before = tf.memory().numTensors;
    await fit(s.model, s.train, { ...s.options, epochs: 2, initialState: undefined });
    assert.equal(tf.memory().numTensors, before);
    s.optimizer.dispose();
    s.model.dispose();
  });
});
