// Scalar attributes beyond a tensor's range: each kernel converts them as tfjs's typed arrays store them (float32:
// rounded, ±Infinity beyond ±3.4e38, NaN kept; int32: wrapped) instead of failing in ATen ("value cannot be converted
// to type float without overflow"). Each case runs one kernel on cpu (the reference) and on torch and compares
// shapes, dtypes and values exactly (NaN with NaN, -0 with 0). Then tfjs-layers' MAPE and MSLE losses, which call
// tf.clipByValue(x, epsilon, Number.MAX_VALUE), train on torch as on cpu.
// Run: node --conditions=source --import tsx --test test/scalar_bounds.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { nativeKernelNames } from '../src/index';

interface Case {
  kernel: string;
  label: string;
  inputs: () => Record<string, tf.Tensor>;
  attrs: Record<string, unknown>;
}

const MAX = Number.MAX_VALUE;
const ABOVE_F32_MAX = 3.4028235e38;  // above float32's largest (3.40282347e38), yet rounds to it
const floats = () => tf.tensor([-3, -1e-3, -0, 0, 1e-30, 0.5, 2, 3e38, -Infinity, Infinity, NaN], [11]);
const ints = () => tf.tensor([-2147483648, -7, -1, 0, 1, 7, 2147483647], [7], 'int32');
const images = () => tf.tensor([-2, -1, 0, 1, 2, 3, -4, 5], [1, 2, 2, 2]);

const CASES: Case[] = [
  ...[[1e-7, MAX], [-MAX, -1e-7], [-1e300, 1e300], [ABOVE_F32_MAX, Infinity], [1e-50, 1e-45], [NaN, MAX]].map(([min, max]) => ({
    kernel: 'ClipByValue', label: `float32 [${min}, ${max}]`, inputs: () => ({ x: floats() }),
    attrs: { clipValueMin: min, clipValueMax: max } })),
  ...[[-1e300, 1e300], [3e9, 4e9], [-4e9, -3e9], [-2.5, 7.9], [-MAX, -3e9]].map(([min, max]) => ({
    kernel: 'ClipByValue', label: `int32 [${min}, ${max}]`, inputs: () => ({ x: ints() }),
    attrs: { clipValueMin: min, clipValueMax: max } })),
  ...[1e300, -1e300, MAX, ABOVE_F32_MAX, 1e-50, NaN, -0].map((value) => ({
    kernel: 'Fill', label: `float32 ${value}`, inputs: () => ({}), attrs: { shape: [2, 2], value, dtype: 'float32' } })),
  ...[1e300, 2 ** 32 + 5, 3e9, -2.7, NaN, Infinity].map((value) => ({
    kernel: 'Fill', label: `int32 ${value}`, inputs: () => ({}), attrs: { shape: [3], value, dtype: 'int32' } })),
  ...[1e300, -1e300, NaN].map((constantValue) => ({
    kernel: 'PadV2', label: `float32 ${constantValue}`, inputs: () => ({ x: tf.tensor([[1, 2], [3, 4]]) }),
    attrs: { paddings: [[1, 0], [0, 1]], constantValue } })),
  ...[1e300, 3e9, -2.5].map((constantValue) => ({
    kernel: 'PadV2', label: `int32 ${constantValue}`, inputs: () => ({ x: tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32') }),
    attrs: { paddings: [[0, 1], [1, 0]], constantValue } })),
  { kernel: 'PadV2', label: 'bool 2 (cpu)', inputs: () => ({ x: tf.tensor([1, 0], [2], 'bool') }),
    attrs: { paddings: [[1, 1]], constantValue: 2 } },
  ...[1e300, -1e300, MAX, NaN, 0.2].map((alpha) => ({
    kernel: 'LeakyRelu', label: `alpha ${alpha}`, inputs: () => ({ x: floats() }), attrs: { alpha } })),
  ...[1e300, -1e300, NaN].map((alpha) => ({
    kernel: 'Step', label: `float32 alpha ${alpha}`, inputs: () => ({ x: floats() }), attrs: { alpha } })),
  ...[1e300, 3e9, -2.5].map((alpha) => ({
    kernel: 'Step', label: `int32 alpha ${alpha}`, inputs: () => ({ x: ints() }), attrs: { alpha } })),
  ...[[1e300, -1e300], [MAX, NaN]].map(([onValue, offValue]) => ({
    kernel: 'OneHot', label: `float32 on ${onValue} off ${offValue}`, inputs: () => ({ indices: tf.tensor([0, 2, 5], [3], 'int32') }),
    attrs: { depth: 3, onValue, offValue, dtype: 'float32' } })),
  { kernel: 'OneHot', label: 'int32 on 2^32 + 3 off -2.5', inputs: () => ({ indices: tf.tensor([1, 0], [2], 'int32') }),
    attrs: { depth: 2, onValue: 2 ** 32 + 3, offValue: -2.5, dtype: 'int32' } },
  ...([[0, 1e39, 1e38, 'float32'], [-1e39, 0, 1e38, 'float32'], [0, 1e300, 1e299, 'int32'], [0, 5e9, 1e9, 'int32']] as const)
    .map(([start, stop, step, dtype]) => ({
      kernel: 'Range', label: `${dtype} ${start}:${stop}:${step}`, inputs: () => ({}), attrs: { start, stop, step, dtype } })),
  { kernel: 'FusedBatchNorm', label: 'varianceEpsilon 1e300, [2,4]', attrs: { varianceEpsilon: 1e300 },
    inputs: () => ({ x: tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), mean: tf.tensor([1, 2, 3, 4]),
      variance: tf.tensor([1, 1, 2, 2]) }) },
  { kernel: 'FusedBatchNorm', label: 'varianceEpsilon 1e300, NHWC', attrs: { varianceEpsilon: 1e300 },
    inputs: () => ({ x: images(), mean: tf.tensor([0, 1]), variance: tf.tensor([1, 2]) }) },
  ...[1e300, NaN].map((leakyreluAlpha) => ({
    kernel: '_FusedMatMul', label: `leakyrelu alpha ${leakyreluAlpha}`,
    inputs: () => ({ a: tf.tensor([1, -2, 0, 3, -0.5, 1], [1, 2, 3]), b: tf.tensor([1, 0, 0, 1, 1, -1], [1, 3, 2]) }),
    attrs: { transposeA: false, transposeB: false, activation: 'leakyrelu', leakyreluAlpha } })),
  { kernel: 'FusedConv2D', label: 'leakyrelu alpha -1e300', inputs: () => ({ x: images(), filter: tf.tensor([1, -1], [1, 1, 2, 1]) }),
    attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, activation: 'leakyrelu', leakyreluAlpha: -1e300 } },
];

interface Result { dtype: string; shape: number[]; values: number[] }

async function run(backendName: string, c: Case): Promise<Result> {
  await tf.setBackend(backendName);
  const inputs = c.inputs();
  const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor;
  // -0 and 0 compare equal: tfjs stores whichever its formula gives, ATen may give the other.
  const result = { dtype: out.dtype, shape: out.shape, values: Array.from(out.dataSync(), (v) => v + 0) };
  tf.dispose([out, ...Object.values(inputs)]);
  return result;
}

for (const c of CASES) {
  test(`${c.kernel} ${c.label}: as cpu`, async () => {
    assert.ok(nativeKernelNames.has(c.kernel));
    const expected = await run('cpu', c);
    assert.deepEqual(await run('torch', c), expected);
  });
}

test('tf.clipByValue(x, eps, Number.MAX_VALUE) keeps x above eps, as tfjs-layers\' losses call it', async () => {
  await tf.setBackend('torch');
  const y = tf.clipByValue(tf.tensor([-1, 0, 1e-9, 2, 3e38, Infinity]), 1e-7, Number.MAX_VALUE);
  assert.deepEqual(Array.from(y.dataSync()), [1e-7, 1e-7, 1e-7, 2, 3e38, Infinity].map(Math.fround));
  y.dispose();
});

/** Losses over `steps` epochs of a small seeded regression model trained with `loss`. */
async function train(backendName: string, loss: string, steps: number): Promise<number[]> {
  await tf.setBackend(backendName);
  const model = tfl.sequential({ layers: [
    tfl.layers.dense({ inputShape: [3], units: 4, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    tfl.layers.dense({ units: 1, activation: 'softplus', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
  ] });
  model.compile({ optimizer: tf.train.sgd(0.05), loss });
  const x = tf.tensor([[0.1, 0.2, 0.3], [0.5, 0.1, 0.9], [0.3, 0.8, 0.2], [0.9, 0.4, 0.6]]);
  const y = tf.tensor([[0.5], [1.5], [1.0], [2.0]]);
  const history = await model.fit(x, y, { epochs: steps, batchSize: 4, shuffle: false, verbose: 0 });
  model.dispose();
  tf.dispose([x, y]);
  return history.history.loss as number[];
}

for (const loss of ['meanAbsolutePercentageError', 'meanSquaredLogarithmicError']) {
  test(`${loss} trains on torch as on cpu`, async () => {
    const cpu = await train('cpu', loss, 5);
    const torch = await train('torch', loss, 5);
    assert.ok(torch.every(Number.isFinite) && torch[4] < torch[0], `torch losses ${torch}`);
    torch.forEach((v, k) => assert.ok(Math.abs(v - cpu[k]) <= 1e-4 * Math.abs(cpu[k]), `epoch ${k}: torch ${v}, cpu ${cpu[k]}`));
  });
}
