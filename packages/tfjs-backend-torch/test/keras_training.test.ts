// Keras-level training on `torch` against `cpu`: the same tfjs-layers models (seeded initialisers), the same data
// and optimiser, a few epochs on each backend; the initial weights must be identical and the loss of every epoch
// equal within |torch - cpu| <= 1e-4 * |cpu|. Covers Sequential, functional with a residual add, a model nested as a
// layer, BPTT through SimpleRNN and LSTM, LayerNormalization, the EarlyStopping callback and fitDataset.
// IS_TEST is on: the engine fails any kernel that leaks a data id.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { fusedAdam } from '../src/index';
import { random } from './random_inputs';

const RTOL = 1e-4;
const BACKENDS = ['cpu', 'torch'] as const;

const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** `shape`-shaped float32 data in [lo, hi) from the shared LCG. */
const data = (shape: number[], seed: number, lo = -1, hi = 1) => tf.tensor(random(shape.reduce((a, b) => a * b, 1), lo, hi, seed), shape);

/** One-hot labels of `n` samples over `classes`, from the LCG. */
const labels = (n: number, classes: number, seed: number) =>
  tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(random(n, 0, classes, seed).map(Math.floor), 'int32'), classes), 'float32'));

interface Run {
  initial: Float32Array[];
  history: Record<string, number[]>;
  epochs: number;
}

/**
 * Builds (with build) and trains (with train) on each backend in turn; `train` gets the compiled model and returns
 * fit's or fitDataset's history.
 */
async function onBothBackends(build: () => tfl.LayersModel,
  train: (model: tfl.LayersModel) => Promise<tfl.History>): Promise<Record<(typeof BACKENDS)[number], Run>> {
  const runs = {} as Record<(typeof BACKENDS)[number], Run>;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const model = build();
    const initial = model.getWeights().map((w) => w.dataSync() as Float32Array);
    const history = await train(model);
    runs[backend] = { initial, history: history.history as Record<string, number[]>, epochs: history.epoch.length };
    model.dispose();
  }
  await tf.setBackend('torch');
  return runs;
}

/**
 * Same initial weights bit for bit; the same number of epochs; every logged loss equal within RTOL. Returns the
 * largest relative difference seen.
 */
function assertSameTraining(runs: Record<(typeof BACKENDS)[number], Run>, what: string): number {
  const { cpu, torch } = runs;
  assert.equal(torch.initial.length, cpu.initial.length);
  torch.initial.forEach((w, i) => assert.deepEqual(w, cpu.initial[i], `${what}: initial weight ${i} differs between backends`));
  assert.equal(torch.epochs, cpu.epochs, `${what}: epochs run`);
  assert.deepEqual(Object.keys(torch.history).sort(), Object.keys(cpu.history).sort());
  let worst = 0;
  for (const [key, values] of Object.entries(cpu.history)) {
    values.forEach((c, epoch) => {
      const t = torch.history[key][epoch];
      assert.ok(Number.isFinite(c) && Math.abs(t - c) <= RTOL * Math.abs(c),
        `${what}: ${key} of epoch ${epoch + 1} is ${t} on torch, ${c} on cpu (relative tolerance ${RTOL})`);
      worst = Math.max(worst, Math.abs(t - c) / Math.abs(c));
    });
  }
  return worst;
}

/** The loss went down from the first epoch to the last (the models do train). */
function assertLearned(run: Run, what: string): void {
  const loss = run.history.loss;
  assert.ok(loss[loss.length - 1] < loss[0], `${what}: loss ${loss.join(', ')} did not fall`);
}

before(() => tf.env().set('IS_TEST', true));
after(() => tf.env().set('IS_TEST', false));

test('Sequential CNN (conv, pooling, batch norm, dense softmax) trains the same on torch and cpu', async (t) => {
  const x = data([32, 8, 8, 3], 1);
  const y = labels(32, 3, 2);
  const runs = await onBothBackends(() => {
    const model = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'elu', kernelInitializer: glorot(2) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(3) }),
    ] });
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    return model;
  }, (model) => model.fit(x, y, { batchSize: 8, epochs: 4, shuffle: false, verbose: 0 }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'Sequential CNN').toExponential(2)}`);
  assertLearned(runs.torch, 'Sequential CNN');
  tf.dispose([x, y]);
});

test('functional model with a residual add, trained with fusedAdam, trains the same on torch and cpu', async (t) => {
  const x = data([16, 6, 6, 4], 3);
  const y = labels(16, 2, 4);
  const runs = await onBothBackends(() => {
    const input = tfl.input({ shape: [6, 6, 4] });
    const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(5) }).apply(input);
    const c2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: glorot(6) }).apply(c1);
    const sum = tfl.layers.activation({ activation: 'relu' }).apply(tfl.layers.add().apply([input, c2] as tfl.SymbolicTensor[]));
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(sum);
    const output = tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: glorot(7) }).apply(pooled) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    model.compile({ optimizer: fusedAdam(0.01), loss: 'categoricalCrossentropy' });
    return model;
  }, (model) => model.fit(x, y, { batchSize: 4, epochs: 3, shuffle: false, verbose: 0 }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'residual functional model').toExponential(2)}`);
  assertLearned(runs.torch, 'residual functional model');
  tf.dispose([x, y]);
});

test('a model nested as a layer of another trains the same on torch and cpu, inner weights included', async (t) => {
  const x = data([24, 5], 8);
  const y = tf.tidy(() => tf.tanh(tf.sum(tf.mul(x, tf.tensor1d([1, -2, 0.5, 3, -1])), 1, true)));
  let innerMoved = 0;
  const runs = await onBothBackends(() => {
    const inner = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: glorot(9) }),
      tfl.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: glorot(10) }),
    ] });
    const outer = tfl.sequential({ layers: [inner, tfl.layers.dense({ units: 1, kernelInitializer: glorot(11) })] });
    outer.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    return outer;
  }, async (model) => {
    const before = (model.layers[0] as tfl.LayersModel).getWeights()[0].dataSync().slice();
    const history = await model.fit(x, y, { batchSize: 6, epochs: 4, shuffle: false, verbose: 0 });
    const after = (model.layers[0] as tfl.LayersModel).getWeights()[0].dataSync();
    innerMoved = Math.max(...Array.from(after, (v, i) => Math.abs(v - before[i])));
    return history;
  });
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'nested model').toExponential(2)}`);
  assertLearned(runs.torch, 'nested model');
  assert.ok(innerMoved > 1e-3, `the inner model's first kernel moved by ${innerMoved} only`);
  tf.dispose([x, y]);
});

test('BPTT through SimpleRNN and LSTM trains the same on torch and cpu', async (t) => {
  const x = data([16, 7, 3], 12);
  // Target: a running-sum-like function of the whole sequence, so the gradient must flow back through time.
  const y = tf.tidy(() => tf.tanh(tf.sum(tf.mul(tf.slice(x, [0, 0, 0], [16, 7, 1]), tf.reshape(tf.linspace(1, 0.2, 7), [1, 7, 1])), 1)));
  const runs = await onBothBackends(() => {
    const model = tfl.sequential({ layers: [
      tfl.layers.simpleRNN({ inputShape: [7, 3], units: 5, returnSequences: true, kernelInitializer: glorot(13), recurrentInitializer: glorot(14) }),
      tfl.layers.lstm({ units: 4, kernelInitializer: glorot(15), recurrentInitializer: glorot(16) }),
      tfl.layers.dense({ units: 1, kernelInitializer: glorot(17) }),
    ] });
    model.compile({ optimizer: tf.train.rmsprop(0.01), loss: 'meanSquaredError' });
    return model;
  }, (model) => model.fit(x, y, { batchSize: 8, epochs: 4, shuffle: false, verbose: 0 }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'SimpleRNN + LSTM').toExponential(2)}`);
  assertLearned(runs.torch, 'SimpleRNN + LSTM');
  tf.dispose([x, y]);
});

test('LayerNormalization trains the same on torch and cpu', async (t) => {
  const x = data([24, 6], 18, -3, 3);
  const y = labels(24, 3, 19);
  const runs = await onBothBackends(() => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [6], units: 8, kernelInitializer: glorot(20) }),
      tfl.layers.layerNormalization(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(21) }),
    ] });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    return model;
  }, (model) => model.fit(x, y, { batchSize: 8, epochs: 4, shuffle: false, verbose: 0 }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'LayerNormalization').toExponential(2)}`);
  assertLearned(runs.torch, 'LayerNormalization');
  tf.dispose([x, y]);
});

test('EarlyStopping stops at the same epoch on torch and cpu, with the same losses', async (t) => {
  // Random labels: the training loss keeps falling while the validation loss turns up, and patience 1 stops there.
  const [x, y, xVal, yVal] = [data([32, 4], 22), labels(32, 2, 23), data([16, 4], 24), labels(16, 2, 25)];
  const maxEpochs = 30;
  const runs = await onBothBackends(() => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [4], units: 16, activation: 'relu', kernelInitializer: glorot(26) }),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: glorot(27) }),
    ] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    return model;
  }, (model) => model.fit(x, y, {
    batchSize: 8, epochs: maxEpochs, shuffle: false, verbose: 0, validationData: [xVal, yVal],
    callbacks: [tfl.callbacks.earlyStopping({ monitor: 'val_loss', patience: 1 })],
  }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'EarlyStopping').toExponential(2)}`);
  const { val_loss: valLoss } = runs.torch.history;
  assert.ok(runs.torch.epochs < maxEpochs, `EarlyStopping did not stop within ${maxEpochs} epochs`);
  // Patience 1: every epoch but the last improved on the best val_loss so far; the last did not.
  const last = valLoss.length - 1;
  valLoss.forEach((v, i) => {
    const best = Math.min(...valLoss.slice(0, i));
    assert.equal(v >= best, i === last, `val_loss ${valLoss.join(', ')}: epoch ${i + 1}`);
  });
  t.diagnostic(`stopped after ${runs.torch.epochs} of ${maxEpochs} epochs`);
  tf.dispose([x, y, xVal, yVal]);
});

test('fitDataset over a dataset of batches trains the same on torch and cpu', async (t) => {
  const batches = 4;
  const batchSize = 6;
  // What tfjs-layers' fitDataset reads: an object with iterator(), whose next() yields {xs, ys} batches (the shape of a
  // tf.data.Dataset of batched elements); fresh tensors per batch, as tf.data gives them.
  const dataset = {
    size: batches,
    iterator: async () => {
      let i = 0;
      return {
        next: async () => (i < batches
          ? { value: { xs: data([batchSize, 5], 100 + i), ys: labels(batchSize, 3, 200 + i++) }, done: false }
          : { value: null, done: true }),
      };
    },
  };
  const runs = await onBothBackends(() => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [5], units: 8, activation: 'sigmoid', kernelInitializer: glorot(28) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(29) }),
    ] });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    return model;
  }, (model) => model.fitDataset(dataset as unknown as Parameters<tfl.LayersModel['fitDataset']>[0], { epochs: 4, verbose: 0 }));
  t.diagnostic(`largest relative difference: ${assertSameTraining(runs, 'fitDataset').toExponential(2)}`);
  assertLearned(runs.torch, 'fitDataset');
  assert.equal(runs.torch.epochs, 4);
});
