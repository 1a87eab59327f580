// useNativeBatchNorm (train/native_batch_norm.ts): a training step of a ResNet with the BatchNorm layers on the
// backend's fused kernels gives the gradients and moving statistics of tfjs-layers' own call to rounding, runs the
// fused kernels instead of tf.moments' ops, leaves inference calls alone, and gives the layers their calls back.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { TorchBatchNormTraining, TorchBatchNormTrainingGrad } from '@insight/tfjs-backend-torch';

import { initBackend, tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { setFrozen } from '../../src/finetune/freeze';
import { useNativeBatchNorm } from '../../src/train/native_batch_norm';
import { trainStep } from '../../src/train/train_step';
import { trainableVariables } from '../../src/train/trainer';
import { spyOnKernels } from '../../../tfjs-backend-torch/test/kernel_spy';
import { assertClose, swappedPass, trainingPass } from './swapped_pass';

before(async () => {
  await initBackend();
});

const WATCHED = [TorchBatchNormTraining, TorchBatchNormTrainingGrad, 'FusedBatchNorm', 'Mean'];

describe('useNativeBatchNorm', () => {
  it('a resnet training step: the same loss, gradients and moving statistics as tfjs-layers, on the fused kernels', () => {
    const x = tf.randomUniform([6, 12, 12, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), 10);
    const own = createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 5 });
    const native = createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 5 });
    const batchNorms = native.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    assert.ok(batchNorms > 10);

    const ownSpy = spyOnKernels(WATCHED, tf.getBackend());
    const expected = trainingPass(own, x, y);
    ownSpy.restore();
    const { result: actual, spy } = swappedPass(native, useNativeBatchNorm, WATCHED, x, y);  // the statistics are freed
    assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-5 * Math.abs(expected.loss));
    actual.grads.forEach((g, i) => assertClose(g, expected.grads[i], `grad ${own.trainableWeights[i].name}`));
    // Moving means and variances moved, and alike.
    actual.weights.forEach((w, i) => assertClose(w, expected.weights[i], `weight ${own.weights[i].name}`));
    assert.equal(spy.calls.get(TorchBatchNormTraining), batchNorms);
    assert.equal(spy.calls.get(TorchBatchNormTrainingGrad), batchNorms);
    // tf.moments takes two means per BatchNorm; the pooling and the loss keep theirs.
    assert.equal(spy.calls.get('Mean'), ownSpy.calls.get('Mean')! - 2 * batchNorms, 'no tf.moments');
    assert.equal(ownSpy.ran.has(TorchBatchNormTraining), false);
    tf.dispose([x, y]);
  });

  it('trainStep runs every BatchNorm on the fused kernels, gives the layers their calls back, and leaks no tensor', async () => {
    const model = createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 5 });
    const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const calls = norms.map((l) => (l as unknown as { call: unknown }).call);
    const variables = trainableVariables(model);
    const size = 4;
    const batch = { x: Float32Array.from({ length: size * 12 * 12 * 3 }, (_, i) => (i % 17) / 17), y: Int32Array.from([0, 3, 5, 9]), size };
    const options = { height: 12, width: 12, labelSmoothing: 0, seed: 1, step: 0, microBatch: 0 };
    tf.dispose((await trainStep(model, variables, batch, options)).grads); // warm-up: tfjs-layers caches its own tensors
    const before = tf.memory().numTensors;
    const spy = spyOnKernels(WATCHED, tf.getBackend());
    let grads;
    try {
      grads = (await trainStep(model, variables, batch, { ...options, step: 1 })).grads;
    } finally {
      spy.restore();
    }
    assert.equal(grads.length, variables.length);
    tf.dispose(grads);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    assert.equal(spy.calls.get(TorchBatchNormTraining), norms.length);
    assert.equal(spy.calls.get(TorchBatchNormTrainingGrad), norms.length);
    assert.deepEqual(norms.map((l) => (l as unknown as { call: unknown }).call), calls);
    model.dispose();
  });

  it('a frozen BatchNorm (always in inference mode) keeps its call and its moving statistics', () => {
    const model = createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 5 });
    const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    setFrozen(norms[0], true);
    const frozenCall = (norms[0] as unknown as { call: unknown }).call;
    const statistics = () => norms[0].getWeights().slice(2).map((w) => Array.from(w.dataSync()));
    const before = statistics();
    const restore = useNativeBatchNorm(model);
    assert.equal((norms[0] as unknown as { call: unknown }).call, frozenCall);
    assert.notEqual((norms[1] as unknown as { call: unknown }).call, (Object.getPrototypeOf(norms[1]) as { call: unknown }).call);
    const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d([1, 2], 'int32'), 10);
    trainingPass(model, x, y);
    restore();
    assert.deepEqual(statistics(), before);
    tf.dispose([x, y]);
  });

  it('leaves inference calls to the layer, and puts the layers\' own calls back (also when nested)', () => {
    const model = createModel('resnet', { inputShape: [12, 12, 3], numClasses: 10, seed: 5 });
    const layer = model.layers.find((l) => l.getClassName() === 'BatchNormalization')! as unknown as { call: unknown };
    const ownCall = layer.call;
    const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 2);
    const before = model.apply(x, { training: false }) as tf.Tensor;
    const restore = useNativeBatchNorm(model);
    const swapped = layer.call;
    assert.notEqual(swapped, ownCall);
    const restoreNested = useNativeBatchNorm(model);
    assert.equal(layer.call, swapped, 'a nested use changes nothing');
    restoreNested();
    assert.equal(layer.call, swapped, 'and its restore leaves the outer swap');
    const spy = spyOnKernels(WATCHED, tf.getBackend());
    const during = model.apply(x, { training: false }) as tf.Tensor;
    spy.restore();
    restore();
    assert.equal(layer.call, ownCall);
    assert.equal(spy.ran.has(TorchBatchNormTraining), false);
    assert.equal(spy.ran.has('FusedBatchNorm'), true, 'moving statistics, the layer\'s own call');
    assert.deepEqual(Array.from(during.dataSync()), Array.from(before.dataSync()));
    tf.dispose([x, before, during]);
  });
});
