// withInferenceLayers (models/inference_layers.ts): forward passes and input gradients through the layers on inference
// ops (BatchNorm and ReLU folded into convolutions) give the layers' own values, run no kernel-gradient kernel and
// fewer kernels; the layers get their own call back.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { withInferenceLayers } from '../../src/models/inference_layers';
import { spyOnKernels } from '../../../tfjs-backend-torch/test/kernel_spy';

before(async () => {
  await initBackend();
});

/** The kernels these tests look for. */
const WATCHED = ['Conv2DBackpropFilter', 'FusedBatchNorm', 'Relu'];

/** `f`'s result and which of the watched kernels it ran, how often (the backend package's kernel spy). */
function kernelsRun<T>(f: () => T): { result: T; ran: Set<string>; calls: Map<string, number> } {
  const spy = spyOnKernels(WATCHED, tf.getBackend());
  try {
    return { result: f(), ran: spy.ran, calls: spy.calls };
  } finally {
    spy.restore();
  }
}

const inputGradient = (model: tfl.LayersModel, x: tf.Tensor) =>
  tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, tf.linspace(-1, 1, 10))))(x);

describe('withInferenceLayers', () => {
  for (const name of ['resnet', 'seed-cnn']) {
    it(`${name}: the input gradient equals the fused layers' to rounding, and no kernel gradient is computed`, async () => {
      const model = createModel(name, { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
      const x = tf.randomUniform([4, 20, 20, 3], 0, 1, 'float32', 1);
      const fused = kernelsRun(() => inputGradient(model, x));
      const plain = kernelsRun(() => withInferenceLayers(model, () => inputGradient(model, x)));
      const [a, b] = [await fused.result.data(), await plain.result.data()];
      const scale = Math.max(...Array.from(a, Math.abs));
      assert.ok(scale > 0);
      assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale), 'same gradient');
      assert.equal(plain.ran.has('Conv2DBackpropFilter'), false, 'no kernel gradient');
      if (name === 'resnet') {
        assert.equal(fused.ran.has('Conv2DBackpropFilter'), true, 'the fused ops compute them');
        assert.equal(plain.ran.has('FusedBatchNorm'), false, 'every BatchNorm folded into the convolution before it');
      }
      const own = kernelsRun(() => model.apply(x, { training: false }) as tf.Tensor);
      const inference = kernelsRun(() => withInferenceLayers(model, () => model.apply(x, { training: false }) as tf.Tensor));
      const [p, q] = [await own.result.data(), await inference.result.data()];
      const top = Math.max(...Array.from(p, Math.abs));
      assert.ok(p.every((v, i) => Math.abs(v - q[i]) <= 1e-5 * top), 'same logits');
      if (name === 'resnet') assert.equal(inference.ran.has('FusedBatchNorm'), false);
      tf.dispose([own.result, inference.result]);
      tf.dispose([fused.result, plain.result, x]);
      model.dispose();
    });
  }

  it('batchStatistics (training mode, as attacks in adversarial training): BatchNorm on the batch\'s statistics, not folded; no kernel gradient', async () => {
    // Two copies: a training-mode pass moves the moving statistics, so each runs on its own.
    const [own, swapped] = [1, 2].map(() => createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 3 }));
    const x = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 1);
    const training = (model: tfl.LayersModel) => (input: tf.Tensor) =>
      tf.sum(tf.mul(model.apply(input, { training: true }) as tf.Tensor, tf.linspace(-1, 1, 10)));
    const fused = kernelsRun(() => tf.grad(training(own))(x));
    const plain = kernelsRun(() => withInferenceLayers(swapped, () => tf.grad(training(swapped))(x), { batchStatistics: true }));
    const [a, b] = [await fused.result.data(), await plain.result.data()];
    const scale = Math.max(...Array.from(a, Math.abs));
    assert.ok(scale > 0);
    assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale), 'same gradient');
    assert.equal(plain.ran.has('Conv2DBackpropFilter'), false, 'no kernel gradient');
    assert.equal(plain.calls.get('FusedBatchNorm'), fused.calls.get('FusedBatchNorm'), 'every BatchNorm runs, on batch statistics');
    // Both moved their moving statistics alike.
    const stats = (model: tfl.LayersModel) => model.getLayer('stem_bn').getWeights()[2].dataSync();
    assert.ok(stats(own).every((v, i) => Math.abs(v - stats(swapped)[i]) <= 1e-6));
    tf.dispose([fused.result, plain.result, x]);
    own.dispose();
    swapped.dispose();
  });

  it('cpu backend (no libtorch): the same gradient through the same kernels, this package\'s ReLU mask included', async () => {
    const model = createModel('seed-cnn', { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
    const x = tf.randomUniform([2, 20, 20, 3], 0, 1, 'float32', 1);
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const fused = inputGradient(model, x);
      const plain = withInferenceLayers(model, () => inputGradient(model, x));
      const [a, b] = [await fused.data(), await plain.data()];
      const scale = Math.max(...Array.from(a, Math.abs));
      assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale));
      tf.dispose([fused, plain]);
    } finally {
      await tf.setBackend(backend);
    }
    tf.dispose(x);
    model.dispose();
  });

  it('folds a BatchNorm only where it normalizes one convolution\'s output and nothing else', async () => {
    // conv → bn → relu (both folded); conv2 → bn2 and conv2 → flatten too (bn2 kept: the convolution's output is also
    // used raw).
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: true, name: 'conv' }).apply(input) as tfl.SymbolicTensor;
    const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv) as tfl.SymbolicTensor;
    const relu = tfl.layers.activation({ activation: 'relu' }).apply(bn) as tfl.SymbolicTensor;
    const conv2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv2' }).apply(relu) as tfl.SymbolicTensor;
    const bn2 = tfl.layers.batchNormalization({ name: 'bn2' }).apply(conv2) as tfl.SymbolicTensor;
    const flat = (t: tfl.SymbolicTensor) => tfl.layers.flatten().apply(t) as tfl.SymbolicTensor;
    const both = tfl.layers.concatenate().apply([flat(bn2), flat(conv2)]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 10 }).apply(both) as tfl.SymbolicTensor });
    // Moving statistics and affine parameters away from 0 and 1, so that a wrong fold shows.
    for (const name of ['bn', 'bn2']) {
      const layer = model.getLayer(name);
      layer.setWeights(layer.getWeights().map((w, i) => tf.add(tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 7 + i), i === 2 ? -1 : 0)));
    }
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 2);
    const fused = kernelsRun(() => inputGradient(model, x));
    const plain = kernelsRun(() => withInferenceLayers(model, () => inputGradient(model, x)));
    const [a, b] = [await fused.result.data(), await plain.result.data()];
    const scale = Math.max(...Array.from(a, Math.abs));
    assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale), 'same gradient');
    assert.equal(plain.ran.has('FusedBatchNorm'), true, 'bn2 still runs');
    assert.deepEqual([fused.ran.has('Relu'), plain.ran.has('Relu')], [true, false], 'the ReLU layer runs inside conv\'s kernel');
    assert.equal(plain.calls.get('FusedBatchNorm'), 1, 'bn folded, bn2 kept');
    tf.dispose([fused.result, plain.result, x]);
    model.dispose();
  });

  it('gives every layer its own call back, also when the function throws', () => {
    const model = createModel('seed-cnn', { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
    const calls = model.layers.map((layer) => (layer as unknown as { call: unknown }).call);
    assert.throws(() => withInferenceLayers(model, () => {
      assert.notDeepEqual(model.layers.map((layer) => (layer as unknown as { call: unknown }).call), calls);
      throw new Error('inside');
    }), /^Error: inside$/);
    assert.deepEqual(model.layers.map((layer) => (layer as unknown as { call: unknown }).call), calls);
    model.dispose();
  });
});
