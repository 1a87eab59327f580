// useNativeConv (train/native_conv.ts): a training step with the Conv2D layers on the backend's fused convolution
// (bias inside, ReLU in place, one backward kernel for dx, dfilter and dbias) gives tfjs-layers' own gradients to
// rounding, for the seed CNN (valid padding, ReLU) and a ResNet (same padding, strides 2, linear before BatchNorm);
// a layer whose call was replaced keeps it, and the layers get their calls back.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { TorchConv2DBiasActivationGrad } from '@insight/tfjs-backend-torch';

import { initBackend, tf } from '../../src/backend';
import { createModel } from '../../src/models';
import type { ModelName } from '../../src/models/names';
import { useNativeConv } from '../../src/train/native_conv';
import { assertClose, swappedPass, trainingPass } from './swapped_pass';

before(async () => {
  await initBackend();
});

const WATCHED = [TorchConv2DBiasActivationGrad, 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];

describe('useNativeConv', () => {
  for (const name of ['seed-cnn', 'resnet'] as ModelName[]) {
    it(`a ${name} training step: tfjs-layers' loss and gradients, every Conv2D on the fused convolution`, () => {
      const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 1);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
      const own = createModel(name, { inputShape: [32, 32, 3], numClasses: 10, seed: 5 });
      const native = createModel(name, { inputShape: [32, 32, 3], numClasses: 10, seed: 5 });
      const convs = native.layers.filter((l) => l.getClassName() === 'Conv2D');
      const calls = convs.map((l) => (l as unknown as { call: unknown }).call);
      const expected = trainingPass(own, x, y);
      const { result: actual, spy } = swappedPass(native, useNativeConv, WATCHED, x, y);
      assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-5 * Math.abs(expected.loss));
      actual.grads.forEach((g, i) => assertClose(g, expected.grads[i], `grad ${own.trainableWeights[i].name}`));
      assert.equal(spy.calls.get(TorchConv2DBiasActivationGrad), convs.length);
      assert.equal(spy.ran.has('Conv2DBackpropFilter'), false);
      assert.deepEqual(convs.map((l) => (l as unknown as { call: unknown }).call), calls, 'the calls are given back');
      tf.dispose([x, y]);
      own.dispose();
      native.dispose();
    });
  }

  it('a Conv2D whose call something else replaced keeps it; other activations keep their own call', () => {
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 5 });
    const [first, second] = model.layers.filter((l) => l.getClassName() === 'Conv2D') as unknown as { call: unknown }[];
    const replaced = (first.call = function wrapped(this: unknown) { return null; });
    const restore = useNativeConv(model);
    assert.equal(first.call, replaced);
    assert.notEqual(second.call, (Object.getPrototypeOf(second) as { call: unknown }).call);
    restore();
    assert.equal(second.call, (Object.getPrototypeOf(second) as { call: unknown }).call);
    model.dispose();
  });
});
