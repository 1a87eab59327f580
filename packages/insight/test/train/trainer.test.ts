// The training loop on tiny data: repeatability, gradient accumulation, the gradient hook, memory, early stopping,
// and resuming from a checkpoint continuing bit for bit.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import type * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { DataLoader, type ImageDataset } from '../../src/data';
import { InsightError } from '../../src/errors';
import { readCheckpoint, restoreWeights } from '../../src/run/checkpoint';
import type { GradientHook, UpdateInfo } from '../../src/train/callbacks/callback';
import { EarlyStopping } from '../../src/train/callbacks/early_stopping';
import { ModelCheckpoint } from '../../src/train/callbacks/model_checkpoint';
import { Adam, paramsOf, Sgd } from '../../src/train/optimizers';
import { ConstantSchedule, CosineSchedule } from '../../src/train/schedules';
import type { TrainerState } from '../../src/train/state';
import { fit, trainableVariables, type FitOptions } from '../../src/train/trainer';
import { tinyDataset, tinyModel, weightsOf } from './tiny';

before(async () => {
  await initBackend();
});

function loader(ds: ImageDataset, batchSize: number, seed = 1, shuffle = true): DataLoader {
  return new DataLoader(ds, { batchSize, seed, shuffle, workers: 0 });
}

async function trainTiny(options: { seed?: number; loaderSeed?: number; epochs?: number; dropout?: number } = {}): Promise<number[][]> {
  const model = tinyModel(options.seed ?? 3, { dropout: options.dropout ?? 0 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  const train = loader(tinyDataset(), 16, options.loaderSeed ?? 1);
  await fit(model, train, { epochs: options.epochs ?? 2, optimizer, schedule: new ConstantSchedule(0.01), seed: options.seed ?? 3 });
  const weights = weightsOf(model);
  optimizer.dispose();
  model.dispose();
  return weights;
}

describe('fit', () => {
  it('the same seeds give identical weights (with dropout); another data seed does not', async () => {
    const a = await trainTiny({ dropout: 0.5 });
    const b = await trainTiny({ dropout: 0.5 });
    assert.deepEqual(a, b);
    const c = await trainTiny({ dropout: 0.5, loaderSeed: 2 });
    assert.notDeepEqual(a, c);
  });

  it('dropout masks differ between steps (the seed changes per step)', async () => {
    const withDropout = await trainTiny({ dropout: 0.5, seed: 5 });
    const without = await trainTiny({ dropout: 0, seed: 5 });
    assert.notDeepEqual(withDropout, without);
  });

  it('accumulating 4 micro-batches of 16 equals one batch of 64 (incl. a short last batch)', async () => {
    const ds = tinyDataset(136); // batches of 16: 8 full + one of 8 → updates of 64, 64, 8; batches of 64: 64, 64, 8
    const runWith = async (batchSize: number, gradAccumulation: number) => {
      const model = tinyModel(11);
      const optimizer = new Sgd(paramsOf(trainableVariables(model)));
      await fit(model, loader(ds, batchSize), { epochs: 1, optimizer, schedule: new ConstantSchedule(0.1), gradAccumulation });
      const w = weightsOf(model);
      assert.equal(optimizer.iterations, 3);
      optimizer.dispose();
      model.dispose();
      return w;
    };
    const big = await runWith(64, 1);
    const accumulated = await runWith(16, 4);
    for (let t = 0; t < big.length; t++) {
      for (let i = 0; i < big[t].length; i++) assert.ok(Math.abs(big[t][i] - accumulated[t][i]) < 1e-5, `${t}[${i}]: ${big[t][i]} vs ${accumulated[t][i]}`);
    }
  });

  it('keeps the number of live tensors flat across epochs', async () => {
    const model = tinyModel(4);
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const counts: number[] = [];
    await fit(model, loader(tinyDataset(), 16), {
      epochs: 4, optimizer, schedule: new ConstantSchedule(0.01), validation: loader(tinyDataset(32), 16, 1, false),
      callbacks: [{ name: 'memory', onEpochEnd: () => void counts.push(tf.memory().numTensors) }],
    });
    assert.equal(new Set(counts.slice(1)).size, 1, `tensors per epoch: ${counts}`);
    optimizer.dispose();
    model.dispose();
  });

  it('reports loss, accuracy and validation metrics per epoch, and learns', async () => {
    const model = tinyModel(6);
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const state = await fit(model, loader(tinyDataset(), 16), {
      epochs: 6, optimizer, schedule: new ConstantSchedule(0.02), validation: loader(tinyDataset(30), 16, 1, false),
    });
    assert.equal(state.history.length, 6);
    assert.equal(state.step, 24);
    const [first, last] = [state.history[0], state.history[5]];
    assert.ok(last.loss < first.loss, `${last.loss} < ${first.loss}`);
    assert.ok(last.val_accuracy! > 0.9, `val_accuracy ${last.val_accuracy}`);
    optimizer.dispose();
    model.dispose();
  });

  it('early stopping ends training after patience epochs without improvement', async () => {
    const model = tinyModel(7);
    const optimizer = new Sgd(paramsOf(trainableVariables(model)));
    const state = await fit(model, loader(tinyDataset(), 16), {
      epochs: 10, optimizer, schedule: new ConstantSchedule(1e-12), callbacks: [new EarlyStopping({ monitor: 'loss', patience: 2, minDelta: 1e-3 })],
    });
    assert.equal(state.epoch, 3);
    assert.equal(state.stopTraining, true);
    optimizer.dispose();
    model.dispose();
  });
});

describe('fit: the gradient hook', () => {
  /** Trains tinyModel(12) for 2 epochs of plain SGD at `lr` with `onGradients`; returns weights before and after. */
  const trainWithHook = async (lr: number, onGradients?: GradientHook, gradAccumulation = 1) => {
    const model = tinyModel(12);
    const before = weightsOf(model);
    const optimizer = new Sgd(paramsOf(trainableVariables(model)));
    await fit(model, loader(tinyDataset(56), 16), { epochs: 2, optimizer, schedule: new ConstantSchedule(lr), onGradients, gradAccumulation });
    const after = weightsOf(model);
    optimizer.dispose();
    model.dispose();
    return { before, after };
  };

  it('zeroed gradients leave the weights unchanged; gradients x 2 step like a doubled learning rate', async () => {
    const zeroed = await trainWithHook(0.1, (grads) => grads.map((g) => tf.zerosLike(g)));
    assert.deepEqual(zeroed.after, zeroed.before);
    const plain = await trainWithHook(0.1);
    assert.notDeepEqual(plain.after, plain.before);
    const scaled = await trainWithHook(0.05, (grads) => grads.map((g) => tf.mul(g, 2)));
    assert.deepEqual(scaled.after, plain.after);
  });

  it('sees every update once, with its number, its examples and the epoch end; no tensors leak', async () => {
    const infos: UpdateInfo[] = [];
    const shapes: number[][] = [];
    const hook: GradientHook = (grads, info) => {
      infos.push(info);
      if (shapes.length === 0) shapes.push(...grads.map((g) => g.shape));
    };
    const tensorsBefore = tf.memory().numTensors;
    // 56 images in batches of 16 → 16, 16, 16, 8; two micro-batches per update → updates of 32 and 24 examples.
    await trainWithHook(0.1, hook, 2);
    assert.equal(tf.memory().numTensors, tensorsBefore);
    assert.deepEqual(infos.map((i) => [i.epochIndex, i.step, i.examples, i.lastOfEpoch]),
      [[0, 1, 32, false], [0, 2, 24, true], [1, 3, 32, false], [1, 4, 24, true]]);
    assert.deepEqual(shapes, [[3, 3, 3, 4], [4], [144, 3], [3]]);
  });

  it('callbacks see the gradients the hook returns', async () => {
    const seen: number[] = [];
    const model = tinyModel(13);
    const optimizer = new Sgd(paramsOf(trainableVariables(model)));
    await fit(model, loader(tinyDataset(32), 16), {
      epochs: 1, optimizer, schedule: new ConstantSchedule(0.1),
      onGradients: async (grads) => grads.map((g) => tf.onesLike(g)),
      callbacks: [{ name: 'look', onGradients: (grads) => void seen.push(tf.sum(grads[1]).dataSync()[0]) }],
    });
    assert.deepEqual(seen, [4, 4]);
    optimizer.dispose();
    model.dispose();
  });

  it('rejects a hook that returns the wrong number of gradients, naming the counts', async () => {
    const model = tinyModel(14);
    const optimizer = new Sgd(paramsOf(trainableVariables(model)));
    await assert.rejects(fit(model, loader(tinyDataset(32), 16), {
      epochs: 1, optimizer, schedule: new ConstantSchedule(0.1), onGradients: (grads) => grads.slice(1).map((g) => tf.clone(g)),
    }), (e: unknown) => e instanceof InsightError && e.message ===
      'A gradient hook must return one gradient per trainable weight, in order. Received: returned=3, trainableWeights=4. ' +
      'Return grads.map(...) (or nothing to keep them).');
    optimizer.dispose();
    model.dispose();
  });
});

describe('resume', () => {
  it('2 epochs straight = 1 epoch + checkpoint + restore into fresh objects + 1 epoch (bit for bit)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-resume-'));
    const ds = tinyDataset(80);
    const epochs = 2;
    const stepsPerEpoch = 5;
    // Cosine with warmup, Adam with L2 and dropout: every piece of state matters.
    const setup = () => {
      const model = tinyModel(21, { dropout: 0.3 });
      const optimizer = new Adam(paramsOf(trainableVariables(model)), { weightDecay: 1e-3 });
      const options: FitOptions = {
        epochs, optimizer, seed: 9, labelSmoothing: 0.1,
        schedule: new CosineSchedule(0.02, epochs * stepsPerEpoch, 3, 0.001),
      };
      return { model, optimizer, options, train: loader(ds, 16, 4) };
    };
    const snapshot = (m: tfl.LayersModel) => weightsOf(m);

    const straight = setup();
    const straightState = await fit(straight.model, straight.train, straight.options);

    const first = setup();
    const last = path.join(dir, 'last');
    await fit(first.model, first.train, {
      ...first.options, epochs: 1,
      callbacks: [new ModelCheckpoint({ lastDir: last, bestDir: path.join(dir, 'best'), monitor: 'loss' })],
    });
    first.optimizer.dispose();
    first.model.dispose();

    const resumed = setup();
    const checkpoint = await readCheckpoint<TrainerState>(last);
    restoreWeights(resumed.model, checkpoint.weights, checkpoint.dir);
    resumed.optimizer.setState(checkpoint.optimizerState);
    tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
    assert.equal(checkpoint.trainer.epoch, 1);
    assert.equal(checkpoint.trainer.step, stepsPerEpoch);
    const resumedState = await fit(resumed.model, resumed.train, { ...resumed.options, initialState: checkpoint.trainer });

    assert.deepEqual(snapshot(resumed.model), snapshot(straight.model));
    assert.equal(resumedState.step, straightState.step);
    assert.deepEqual(resumedState.history.map((h) => h.loss), straightState.history.map((h) => h.loss));
    for (const s of [straight, resumed]) {
      s.optimizer.dispose();
      s.model.dispose();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
