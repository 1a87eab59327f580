// conv2dBiasActivation: on `torch` the FusedConv2D kernel forward and one backward kernel (ReLU's mask, then dx,
// dfilter and dbias from one convolution backward); on `cpu` tf.fused.conv2d and tfjs-core's gradients, the reference.
// Outputs and the gradients with respect to x, filter and bias agree within float rounding, for valid and same
// padding (same with stride 2 pads asymmetrically), strides, with and without bias and ReLU. (tfjs-core has no conv2d
// gradient for dilations over 1, so none is compared.) With inputGradient false no gradient reaches x.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import { conv2dBiasActivation, nativeKernelNames, TorchConv2DBiasActivationGrad, type TorchConv2DBiasActivationAttrs } from '../src/index';
import { random } from './random_inputs';

interface Case extends TorchConv2DBiasActivationAttrs {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  bias: boolean;
}

/** y and d(Σ y · w)/d(x, filter, bias) on `backend`, for inputs drawn from `seed`. */
async function run(backend: string, c: Case, seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor4d(random(size(c.x), -1, 1, seed), c.x);
    const filter = tf.tensor4d(random(size(c.filter), -0.5, 0.5, seed + 1), c.filter);
    const bias = c.bias ? tf.tensor1d(random(c.filter[3], -0.3, 0.3, seed + 2)) : null;
    const apply = (...t: tf.Tensor[]) => conv2dBiasActivation(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, (t[2] ?? null) as tf.Tensor1D | null, c);
    const y = apply(x, filter, ...(bias ? [bias] : []));
    const w = tf.tensor(random(y.size, -1, 1, seed + 3), y.shape);
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(...t), w)))([x, filter, ...(bias ? [bias] : [])]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-5 + 1e-5 * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}[${i}]: torch ${actual[i]} vs cpu ${expected[i]}`);
  }
}

test('the backward kernel is native on torch; cpu runs tf.fused.conv2d', () => {
  assert.ok(nativeKernelNames.has(TorchConv2DBiasActivationGrad));
  assert.equal(tf.getKernel(TorchConv2DBiasActivationGrad, 'cpu'), undefined);
});

test('outputs and gradients match tf.fused.conv2d on cpu', async () => {
  const cases: Case[] = [
    { x: [3, 9, 9, 3], filter: [3, 3, 3, 5], bias: true, strides: 1, pad: 'valid', dilations: 1, activation: 'relu' },
    { x: [2, 8, 8, 4], filter: [3, 3, 4, 6], bias: true, strides: 2, pad: 'same', dilations: 1, activation: 'relu' },
    { x: [2, 7, 7, 2], filter: [3, 3, 2, 3], bias: false, strides: 1, pad: 'same', dilations: 1, activation: 'relu' },
    { x: [2, 9, 9, 3], filter: [2, 2, 3, 4], bias: true, strides: [1, 2], pad: 'valid', dilations: 1, activation: 'linear' },
  ];
  for (const [k, c] of cases.entries()) {
    const torch = await run('torch', c, 10 * k + 1);
    const cpu = await run('cpu', c, 10 * k + 1);
    const names = ['y', 'dx', 'dfilter', ...(c.bias ? ['dbias'] : [])];
    assert.equal(torch.length, names.length);
    names.forEach((name, i) => assertClose(torch[i], cpu[i], `case ${k} ${name}`));
  }
  await tf.setBackend('torch');
});

test('with inputGradient false, x is data: the filter and bias gradients are the same, and none reaches x', async () => {
  const c: Case = { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], bias: true, strides: 1, pad: 'valid', dilations: 1, activation: 'relu' };
  const [, , dfilter, dbias] = await run('torch', c, 7);
  const x = tf.tensor4d(random(2 * 9 * 9 * 3, -1, 1, 7), c.x);
  const filter = tf.variable(tf.tensor4d(random(3 * 3 * 3 * 4, -0.5, 0.5, 8), c.filter));
  const bias = tf.variable(tf.tensor1d(random(4, -0.3, 0.3, 9)));
  const apply = () => conv2dBiasActivation(x, filter as tf.Tensor as tf.Tensor4D, bias as tf.Tensor as tf.Tensor1D, { ...c, inputGradient: false });
  const w = tf.tensor(random(2 * 7 * 7 * 4, -1, 1, 10), [2, 7, 7, 4]);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(apply(), w)) as tf.Scalar, [filter, bias]);
  assertClose(grads[filter.name].dataSync() as Float32Array, dfilter, 'dfilter');
  assertClose(grads[bias.name].dataSync() as Float32Array, dbias, 'dbias');
  assert.throws(() => tf.grad((t: tf.Tensor) => conv2dBiasActivation(t as tf.Tensor4D, filter as tf.Tensor as tf.Tensor4D, bias as tf.Tensor as tf.Tensor1D,
    { ...c, inputGradient: false }))(x), /Cannot compute gradient/);
  tf.dispose([x, filter, bias, w, ...Object.values(grads)]);
});

test('a bias of the wrong size is refused with the rule and the shapes', () => {
  const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  const filter = tf.zeros([3, 3, 2, 3]) as tf.Tensor4D;
  const bias = tf.zeros([2]) as tf.Tensor1D;
  assert.throws(() => conv2dBiasActivation(x, filter, bias, { strides: 1, pad: 'valid', dilations: 1, activation: 'relu' }),
    /one bias value per output channel.*|Received: .*bias.shape=\[2\]/s);
  tf.dispose([x, filter, bias]);
});
