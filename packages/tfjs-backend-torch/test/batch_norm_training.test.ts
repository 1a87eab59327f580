// batchNormTraining: on `torch` one native forward kernel and one backward kernel; on `cpu` the ops tfjs-layers'
// BatchNormalization runs (tf.moments, tf.batchNorm) and their tfjs-core gradients, which are the reference here.
// Outputs, statistics and the gradients with respect to x, scale and offset agree within float rounding. (tfjs-core's
// batchNorm gradient fails without a scale, so the cpu reference gets ones then, and zeros for a missing offset.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import { batchNormTraining, nativeKernelNames, TorchBatchNormTraining, TorchBatchNormTrainingGrad } from '../src/index';
import { random } from './random_inputs';

interface Case {
  shape: number[];
  scale: boolean;
  offset: boolean;
}

/** y, mean, variance and d(Σ y · w)/d(x, scale, offset) on `backend`, for inputs drawn from `seed`. */
async function run(backend: string, { shape, scale, offset }: Case, seed: number): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  const reference = backend === 'cpu';
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    // Channels with different means and spreads; a constant channel (variance 0) in the last place.
    const values = random(n, -2, 2, seed).map((v, i) => (i % c === c - 1 ? 0.75 : v * (1 + (i % c)) + (i % c)));
    const x = tf.tensor(values, shape);
    const w = tf.tensor(random(n, -1, 1, seed + 1), shape);
    const s = scale ? tf.tensor(random(c, 0.5, 1.5, seed + 2)) : reference ? tf.ones([c]) : null;
    const o = offset ? tf.tensor(random(c, -0.5, 0.5, seed + 3)) : reference ? tf.zeros([c]) : null;
    const inputs = [x, ...(s ? [s] : []), ...(o ? [o] : [])];
    const f = (...args: tf.Tensor[]) => {
      const { y, mean, variance } = batchNormTraining(args[0], s ? args[1] : null, o ? args[args.length - 1] : null, 1e-3);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, w));
    };
    const grads = tf.grads(f)(inputs);
    const { y, mean, variance } = batchNormTraining(x, s, o, 1e-3);
    const out: Record<string, Float32Array> = {
      y: y.dataSync() as Float32Array, mean: mean.dataSync() as Float32Array, variance: variance.dataSync() as Float32Array,
      dx: grads[0].dataSync() as Float32Array,
    };
    if (scale) out.dscale = grads[1].dataSync() as Float32Array;
    if (offset) out.doffset = grads[inputs.length - 1].dataSync() as Float32Array;
    return out;
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-5 * Math.max(1, Math.abs(expected[i])) + 1e-6 * scale;
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}[${i}]: torch ${actual[i]} vs cpu ${expected[i]}`);
  }
}

test('both kernels are native on torch; cpu has none (batchNormTraining composes ops there)', () => {
  for (const kernel of [TorchBatchNormTraining, TorchBatchNormTrainingGrad]) {
    assert.ok(nativeKernelNames.has(kernel), kernel);
    assert.equal(tf.getKernel(kernel, 'cpu'), undefined, kernel);
  }
});

const cases: Case[] = [
  { shape: [8, 5, 6, 4], scale: true, offset: true },   // NHWC, as a convolution's output
  { shape: [8, 5, 6, 4], scale: false, offset: true },
  { shape: [8, 5, 6, 4], scale: true, offset: false },
  { shape: [16, 3], scale: true, offset: true },        // after a Dense layer
  { shape: [4, 7, 5], scale: false, offset: false },    // a sequence [batch, steps, channels]
];
for (const [k, c] of cases.entries()) {
  const label = `[${c.shape}]${c.scale ? ' scale' : ''}${c.offset ? ' offset' : ''}`;
  test(`batchNormTraining ${label}: torch equals the tfjs ops on cpu (y, statistics, gradients)`, async () => {
    const cpu = await run('cpu', c, 10 * k + 1);
    const torch = await run('torch', c, 10 * k + 1);
    assert.deepEqual(Object.keys(torch).sort(), Object.keys(cpu).sort());
    for (const key of Object.keys(cpu)) assertClose(torch[key], cpu[key], `${label} ${key}`);
    // The constant channel: its value as the mean, variance 0.
    const channels = c.shape[c.shape.length - 1];
    assert.equal(torch.variance[channels - 1], 0);
    assert.ok(Math.abs(torch.mean[channels - 1] - 0.75) < 1e-6);
  });
}

test('batchNormTraining with one value per channel: variance 0 (not 0/0), y is the offset', async () => {
  await tf.setBackend('torch');
  tf.tidy(() => {
    const { y, mean, variance } = batchNormTraining(tf.tensor2d([[3, -1, 2]]), tf.ones([3]), tf.tensor1d([0.5, 0, -1]), 1e-3);
    assert.deepEqual(Array.from(variance.dataSync()), [0, 0, 0]);
    assert.deepEqual(Array.from(mean.dataSync()), [3, -1, 2]);
    // ATen computes x · a + (offset − mean · a): the offset to rounding.
    Array.from(y.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - [0.5, 0, -1][i]) < 1e-5, `y[${i}] = ${v}`));
  });
});

test('batchNormTraining frees everything but its results, also under a gradient tape', async () => {
  await tf.setBackend('torch');
  const x = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 7);
  const scale = tf.variable(tf.ones([2]));
  const before = tf.memory().numTensors;
  // The statistics are ordinary tensors of the caller's scope: the gradient's tidy frees them undisposed.
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(batchNormTraining(x, scale, null, 1e-3).y)) as tf.Scalar, [scale]);
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, scale]);
});

test('batchNormTraining refuses x of rank 1, int32 x and a scale of the wrong shape, with the rule, the value and the fix', async () => {
  await tf.setBackend('torch');
  const x = tf.tensor1d([1, 2, 3]);
  assert.throws(() => batchNormTraining(x, null, null, 1e-3),
    /needs float32 x of rank 2 or more, channels last\. Received: x\.shape=\[3\], x\.dtype=float32\. Reshape or cast x/);
  const ints = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
  assert.throws(() => batchNormTraining(ints, null, null, 1e-3), /Received: x\.shape=\[2,2\], x\.dtype=int32\./);
  const floats = tf.tensor2d([[1, 2], [3, 4]]);
  const scale = tf.ones([3]);
  assert.throws(() => batchNormTraining(floats, scale, null, 1e-3),
    /needs scale of shape \[2\] \(x's last axis\) or null\. Received: scale\.shape=\[3\]\. Pass one value per channel\./);
  tf.dispose([x, ints, floats, scale]);
});
