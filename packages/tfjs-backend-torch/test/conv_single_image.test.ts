// A convolution of one small image goes to oneDNN directly (ATen would run its slower reference kernel; see
// conv2d_impl.ts): its numbers equal the same image convolved inside a batch (ATen's own path) and the cpu backend's,
// with bias and ReLU fused or not, 'same' and 'valid' padding, and its output is a contiguous NHWC tensor.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import '../src/index';
import type { TorchBackend } from '../src/backend';

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const CASES = [
  { name: 'seed-cnn first layer, valid, bias + relu', x: [32, 32, 3], filter: [3, 3, 3, 32], pad: 'valid' as const, stride: 1, fused: true },
  { name: '15x15x32, same, stride 2, no bias', x: [15, 15, 32], filter: [3, 3, 32, 16], pad: 'same' as const, stride: 2, fused: false },
  { name: '6x6x64, valid, bias + relu', x: [6, 6, 64], filter: [3, 3, 64, 8], pad: 'valid' as const, stride: 1, fused: true },
  { name: '1x1 kernel', x: [8, 8, 16], filter: [1, 1, 16, 4], pad: 'valid' as const, stride: 1, fused: true },
];

for (const c of CASES) {
  test(`one image: ${c.name} equals the batched and the cpu result`, async () => {
    const batch = tf.tidy(() => tf.randomUniform([3, ...c.x], -1, 1, 'float32', 7));
    const filter = tf.tidy(() => tf.randomUniform(c.filter, -1, 1, 'float32', 8));
    const bias = tf.tidy(() => tf.randomUniform([c.filter[3]], -1, 1, 'float32', 9));
    const run = (x: tf.Tensor) => (c.fused
      ? tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: c.stride, pad: c.pad, bias, activation: 'relu' })
      : tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.stride, c.pad));
    const results: Record<string, Float32Array> = {};
    for (const backendName of ['torch', 'cpu']) {
      await tf.setBackend(backendName);
      results[`${backendName} single`] = tf.tidy(() => run(tf.slice(batch, [1], [1])).dataSync() as Float32Array);
      results[`${backendName} batched`] = tf.tidy(() => {
        const y = run(batch);
        return tf.slice(y, [1], [1]).dataSync() as Float32Array;
      });
    }
    await tf.setBackend('torch');
    assertClose(results['torch single'], results['torch batched'], 'torch single vs batched');
    assertClose(results['torch single'], results['cpu single'], 'torch vs cpu');
    const backend = tf.backend() as TorchBackend;
    const y = tf.tidy(() => run(tf.slice(batch, [1], [1])));
    const h = backend.handle({ dataId: y.dataId, shape: y.shape, dtype: y.dtype });
    assert.match(backend.binding.describe(h), / contiguous/);
    tf.dispose([y, batch, filter, bias]);
  });
}
