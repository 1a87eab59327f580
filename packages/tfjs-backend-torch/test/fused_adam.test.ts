// FusedAdamOptimizer against tfjs's own AdamOptimizer, on torch and on cpu: same weights after several steps,
// same state.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import { fusedAdam, nativeKernelNames } from '../src/index';

function train(opt: tf.Optimizer, steps: number): Float32Array {
  const w = tf.variable(tf.tensor2d([[0.5, -1.5, 2], [3, 0.25, -0.75]]), true, `w_${Math.random()}`);
  const x = tf.tensor2d([[1, 2], [-1, 0.5], [0.3, -2]]);
  for (let i = 0; i < steps; i++) {
    opt.minimize(() => tf.sum(tf.square(tf.sub(tf.matMul(x, w), 1))) as tf.Scalar);
  }
  const out = w.dataSync() as Float32Array;
  w.dispose();
  tf.dispose(x);
  return out;
}

test('fused Adam matches tf.train.adam step for step', async () => {
  await tf.setBackend('torch');
  assert.ok(nativeKernelNames.has('FusedAdamUpdate'));
  const reference = train(tf.train.adam(0.01, 0.9, 0.999, 1e-7), 25);
  const fused = train(fusedAdam(0.01, 0.9, 0.999, 1e-7), 25);
  for (let i = 0; i < reference.length; i++) assert.ok(Math.abs(reference[i] - fused[i]) < 1e-5, `w[${i}]: ${reference[i]} vs ${fused[i]}`);
});

test('fused Adam keeps AdamOptimizer state (iterations, moments) for saving and resuming', async () => {
  await tf.setBackend('torch');
  const opt = fusedAdam(0.01);
  train(opt, 3);
  const weights = await opt.getWeights();
  assert.equal(weights[0].name, 'iter');
  assert.equal((await weights[0].tensor.data())[0], 3);
  assert.equal(weights.length, 3);  // iter, w/m, w/v
});

test('fused Adam on cpu runs the cpu reference kernel and matches tf.train.adam', async () => {
  await tf.setBackend('cpu');
  const reference = train(tf.train.adam(0.01, 0.9, 0.999, 1e-7), 25);
  const fused = train(fusedAdam(0.01, 0.9, 0.999, 1e-7), 25);
  // Not bit for bit: the kernel folds the bias correction into its step size (float64, one rounding per output)
  // where tfjs runs ~20 float32 ops; the same tolerance as on torch.
  for (let i = 0; i < reference.length; i++) assert.ok(Math.abs(reference[i] - fused[i]) < 1e-5, `w[${i}]: ${reference[i]} vs ${fused[i]}`);
  await tf.setBackend('torch');
});
