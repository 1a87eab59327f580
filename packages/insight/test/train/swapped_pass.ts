// One training-mode forward and backward pass, plain or with some layers' calls swapped for the backend's fused ones
// (train/native_batch_norm.ts, train/native_conv.ts), for tests that compare the two.
import assert from 'node:assert/strict';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../src/backend';
import { trainableVariables } from '../../src/train/trainer';
import { spyOnKernels, type KernelSpy } from '../../../tfjs-backend-torch/test/kernel_spy';

export interface PassResult {
  loss: number;
  /** The trainable weights' gradients, in order. */
  grads: number[][];
  /** Every weight's values after the pass (BatchNorm's moving statistics move in training mode). */
  weights: number[][];
}

/** x [n, H, W, C], one-hot y [n, classes] → the softmax cross-entropy's loss, gradients and the weights after. */
export function trainingPass(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): PassResult {
  const variables = trainableVariables(model);
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
  const result = { loss: value.dataSync()[0], grads: variables.map((v) => Array.from(grads[v.name].dataSync())),
    weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

/**
 * trainingPass with `swap(model)` in force (it returns the function that undoes it) and the kernels `watched` spied;
 * asserts that the pass leaves no tensor behind.
 */
export function swappedPass(model: tfl.LayersModel, swap: (m: tfl.LayersModel) => () => void, watched: string[], x: tf.Tensor,
  y: tf.Tensor): { result: PassResult; spy: KernelSpy } {
  const restore = swap(model);
  const spy = spyOnKernels(watched, tf.getBackend());
  const tensorsBefore = tf.memory().numTensors;
  try {
    const result = trainingPass(model, x, y);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'nothing left behind');
    return { result, spy };
  } finally {
    spy.restore();
    restore();
  }
}

/** Each value within `relative` of the largest |expected| value. */
export function assertClose(actual: number[], expected: number[], label: string, relative = 1e-4): void {
  const scale = Math.max(1e-6, ...expected.map(Math.abs));
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= relative * scale, `${label}[${i}]: ${v} vs ${expected[i]}`));
}
