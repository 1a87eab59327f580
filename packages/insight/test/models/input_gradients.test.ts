// withUnfusedLinearLayers (models/input_gradients.ts): an input gradient through Conv2D and Dense layers on plain ops
// gives the fused layers' values and runs no kernel-gradient kernel; the layers get their own call back.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { withUnfusedLinearLayers } from '../../src/models/input_gradients';

before(async () => {
  await initBackend();
});

/** Kernel names run while `f` runs (every kernel of the active backend wrapped for the call). */
function kernelsRun<T>(f: () => T): { result: T; ran: Set<string> } {
  const ran = new Set<string>();
  const configs = tf.getKernelsForBackend(tf.getBackend());
  const own = configs.map((k) => k.kernelFunc);
  configs.forEach((k, i) => {
    (k as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
      ran.add(k.kernelName);
      return own[i](args);
    };
  });
  try {
    return { result: f(), ran };
  } finally {
    configs.forEach((k, i) => { (k as { kernelFunc: tf.KernelFunc }).kernelFunc = own[i]; });
  }
}

const inputGradient = (model: tfl.LayersModel, x: tf.Tensor) =>
  tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, tf.linspace(-1, 1, 10))))(x);

describe('withUnfusedLinearLayers', () => {
  for (const name of ['resnet', 'seed-cnn']) {
    it(`${name}: the input gradient equals the fused layers' to rounding, and no kernel gradient is computed`, async () => {
      const model = createModel(name, { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
      const x = tf.randomUniform([4, 20, 20, 3], 0, 1, 'float32', 1);
      const fused = kernelsRun(() => inputGradient(model, x));
      const plain = kernelsRun(() => withUnfusedLinearLayers(model, () => inputGradient(model, x)));
      const [a, b] = [await fused.result.data(), await plain.result.data()];
      const scale = Math.max(...Array.from(a, Math.abs));
      assert.ok(scale > 0);
      assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale), 'same gradient');
      assert.equal(plain.ran.has('Conv2DBackpropFilter'), false, 'no kernel gradient');
      if (name === 'resnet') assert.equal(fused.ran.has('Conv2DBackpropFilter'), true, 'the fused ops compute them');
      tf.dispose([fused.result, plain.result, x]);
      model.dispose();
    });
  }

  it('cpu backend (no libtorch): the same gradient through the same kernels, this package\'s ReLU mask included', async () => {
    const model = createModel('seed-cnn', { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
    const x = tf.randomUniform([2, 20, 20, 3], 0, 1, 'float32', 1);
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const fused = inputGradient(model, x);
      const plain = withUnfusedLinearLayers(model, () => inputGradient(model, x));
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

  it('gives every layer its own call back, also when the function throws', () => {
    const model = createModel('seed-cnn', { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
    const calls = model.layers.map((layer) => (layer as unknown as { call: unknown }).call);
    assert.throws(() => withUnfusedLinearLayers(model, () => {
      assert.notDeepEqual(model.layers.map((layer) => (layer as unknown as { call: unknown }).call), calls);
      throw new Error('inside');
    }), /^Error: inside$/);
    assert.deepEqual(model.layers.map((layer) => (layer as unknown as { call: unknown }).call), calls);
    model.dispose();
  });
});
