// The native elementwise and creation kernels against tfjs-backend-cpu's (the reference): each case runs one
// kernel through the engine on both backends with the same inputs, including NaN, ±Infinity, -0, negatives,
// int32 extremes and divisors 0 and -1, and asserts equal shapes, dtypes and values (1e-5 relative; 1e-6 absolute
// below 0.1, where tfjs's erf polynomial is off by up to 1.5e-7), that the kernel is native, and that no native
// tensor leaks. Run: node --import tsx --test test/elementwise.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { nativeKernelNames } from '../src/index';
import { random } from './random_inputs';

type Inputs = Record<string, tf.Tensor> | tf.Tensor[];
interface Case {
  kernel: string;
  inputs: () => Inputs;
  attrs?: Record<string, unknown>;
  label?: string;
}

// Deterministic inputs (random_inputs.ts), then the special values appended.
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3];
const floats = (seed: number) => [...random(24 - SPECIAL.length, -4, 4, seed), ...SPECIAL];  // 24 values
const ints = (seed: number) => [...random(19, -20, 20, seed).map(Math.round), 0, -1, 1, 2147483647, -2147483648];
const f = (seed: number) => () => tf.tensor(floats(seed), [4, 6], 'float32');
const i = (seed: number) => () => tf.tensor(ints(seed), [4, 6], 'int32');
const bools = (seed: number) => () => tf.tensor(random(24, 0, 2, seed).map(Math.floor), [4, 6], 'bool');
const row = () => tf.tensor(floats(7).slice(18), [6], 'float32');  // broadcasts against [4, 6]

const unary = (kernel: string, attrs?: Record<string, unknown>): Case[] => [
  { kernel, attrs, inputs: () => ({ x: f(1)() }), label: 'float32' },
  { kernel, attrs, inputs: () => ({ x: tf.tensor(ints(2).slice(0, 22), [2, 11], 'int32') }), label: 'int32' },
];
const smallInt = (seed: number) => () => tf.tensor(random(24, -9, 9, seed).map(Math.round), [4, 6], 'int32');
// int32 b is reversed so that the extremes meet small values (tfjs multiplies in float64, inexact beyond 2^53);
// `small` keeps both small, for ops that square.
const binary = (kernel: string, small = false): Case[] => [
  { kernel, inputs: () => ({ a: f(3)(), b: f(4)() }), label: 'float32' },
  { kernel, inputs: () => ({ a: f(5)(), b: row() }), label: 'float32 broadcast' },
  { kernel, label: 'int32', inputs: () => (small ? { a: smallInt(6)(), b: smallInt(7)() }
    : { a: i(6)(), b: tf.tensor(ints(7).reverse(), [4, 6], 'int32') }) },
];
// int32 dividends over divisors that include 0 and -1 (INT_MIN / -1 traps in x86 integer division).
const intDivision = (kernel: string): Case => ({
  kernel, label: 'int32 by 0, -1',
  inputs: () => ({ a: tf.tensor([7, -7, 7, -7, -2147483648, 5, -2147483648, 0], [8], 'int32'),
    b: tf.tensor([2, 2, -2, -2, -1, 0, 3, 0], [8], 'int32') }),
});

const CASES: Case[] = [
  ...binary('Sub'), ...binary('Multiply'), ...binary('RealDiv'), ...binary('FloorDiv'), ...binary('Mod'),
  ...binary('Maximum'), ...binary('Minimum'), ...binary('SquaredDifference', true), ...binary('Atan2'),
  intDivision('RealDiv'), intDivision('FloorDiv'), intDivision('Mod'),
  { kernel: 'Pow', label: 'float32', inputs: () => ({ a: f(8)(), b: tf.tensor(random(24, -3, 3, 9), [4, 6]) }) },
  { kernel: 'Pow', label: 'NaN and ±Infinity exponents',
    inputs: () => ({ a: tf.tensor([1, -1, 1, 2, 0.5, -1, NaN, 3]),
      b: tf.tensor([NaN, Infinity, -Infinity, Infinity, Infinity, 2, 0, NaN]) }) },
  { kernel: 'Pow', label: 'int32', inputs: () => ({ a: tf.tensor([2, 3, -3, 1, -1, -1, 0, 2], [8], 'int32'),
    b: tf.tensor([10, 25, 3, -4, -3, -2, -1, 0], [8], 'int32') }) },
  { kernel: 'Mod', label: '±Infinity divisors',
    inputs: () => ({ a: tf.tensor([5, -5, 5, -5, 0, -0, Infinity]),
      b: tf.tensor([Infinity, Infinity, -Infinity, -Infinity, -Infinity, Infinity, 2]) }) },
  { kernel: 'FloorDiv', label: 'float32 near integers and beyond int32',
    inputs: () => ({ a: tf.tensor([1, 7, -7, 1, 5e9, -1]), b: tf.tensor([0.1, 0.7, 0.7, 3, 1, Infinity]) }) },
  { kernel: 'Multiply', label: 'bool', inputs: () => ({ a: bools(1)(), b: bools(2)() }) },
  { kernel: 'Sub', label: 'bool (on cpu)', inputs: () => ({ a: bools(1)(), b: bools(2)() }) },
  { kernel: 'AddN', inputs: () => [f(1)(), f(2)(), f(3)()], label: 'float32 x3' },
  { kernel: 'AddN', inputs: () => [i(1)(), i(2)()], label: 'int32 x2' },
  { kernel: 'AddN', inputs: () => [f(4)()], label: 'one input' },
  ...['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual'].flatMap((k) => [
    ...binary(k), { kernel: k, label: 'bool', inputs: () => ({ a: bools(3)(), b: bools(4)() }) }]),
  { kernel: 'LogicalAnd', inputs: () => ({ a: bools(5)(), b: bools(6)() }) },
  { kernel: 'LogicalOr', inputs: () => ({ a: bools(5)(), b: bools(6)() }) },
  { kernel: 'LogicalNot', inputs: () => ({ x: bools(7)() }) },
  { kernel: 'LogicalNot', label: 'float32', inputs: () => ({ x: f(2)() }) },
  { kernel: 'Select', inputs: () => ({ condition: bools(8)(), t: f(1)(), e: f(2)() }) },
  { kernel: 'Select', label: 'int32 | float32', inputs: () => ({ condition: bools(9)(), t: i(1)(), e: f(2)() }) },
  ...unary('ClipByValue', { clipValueMin: -1.5, clipValueMax: 2.25 }),
  ...unary('ClipByValue', { clipValueMin: -1e10, clipValueMax: 7.5 }),
  ...['Abs', 'Neg', 'Exp', 'Expm1', 'Log', 'Log1p', 'Sqrt', 'Rsqrt', 'Reciprocal', 'Sin', 'Cos', 'Tan', 'Asin',
    'Acos', 'Atan', 'Sinh', 'Cosh', 'Tanh', 'Asinh', 'Acosh', 'Atanh', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign',
    'IsNan', 'IsInf', 'IsFinite', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Softplus'].flatMap((k) => unary(k)),
  { kernel: 'Square', label: 'float32', inputs: () => ({ x: f(1)() }) },
  { kernel: 'Square', label: 'small int32', inputs: () => ({ x: smallInt(8)() }) },
  { kernel: 'Softplus', label: 'around the thresholds',
    inputs: () => ({ x: tf.tensor([-30, -14, -13.9, 13.9, 14, 25]) }) },
  ...unary('Step', { alpha: 0 }), ...unary('Step', { alpha: 0.25 }), ...unary('LeakyRelu', { alpha: 0.2 }),
  { kernel: 'EluGrad', inputs: () => ({ dy: f(3)(), y: f(4)() }) },
  { kernel: 'Prelu', inputs: () => ({ x: f(5)(), alpha: row() }) },
  ...['float32', 'int32', 'bool'].flatMap((dtype) => [
    { kernel: 'Cast', label: `float32 -> ${dtype}`, attrs: { dtype },
      inputs: () => ({ x: tf.tensor([...floats(3), 3e9, -3e9, 2.7, -2.7]) }) },
    { kernel: 'Cast', label: `int32 -> ${dtype}`, attrs: { dtype }, inputs: () => ({ x: i(4)() }) },
    { kernel: 'Cast', label: `bool -> ${dtype}`, attrs: { dtype }, inputs: () => ({ x: bools(5)() }) },
    { kernel: 'Fill', label: dtype, attrs: { shape: [2, 3], value: 2.5, dtype }, inputs: () => ({}) },
    { kernel: 'ZerosLike', label: dtype, inputs: () => ({ x: tf.tensor([1, 0, 1], [3], dtype as 'float32') }) },
    { kernel: 'OnesLike', label: dtype, inputs: () => ({ x: tf.tensor([1, 0, 1], [3], dtype as 'float32') }) },
  ]),
  // Bincount: counts (no weights) and sums of float32 / int32 weights; values at or beyond size count nowhere.
  { kernel: 'Bincount', label: 'counts', attrs: { size: 6 }, inputs: () => ({ x: tf.tensor([1, 1, 3, 0, 5, 9, 6, 3, 1], [9], 'int32'), weights: tf.tensor([], [0], 'float32') }) },
  { kernel: 'Bincount', label: 'float32 weights', attrs: { size: 4 }, inputs: () => ({ x: tf.tensor([2, 0, 2, 7, 3], [5], 'int32'), weights: tf.tensor([0.5, 1.5, -2, 9, 4], [5], 'float32') }) },
  { kernel: 'Bincount', label: 'rank-3 x (tf.image.threshold)', attrs: { size: 5 }, inputs: () => ({ x: tf.tensor([0, 4, 4, 1, 2, 2], [3, 2, 1], 'int32'), weights: tf.tensor([], [0], 'float32') }) },
  { kernel: 'Bincount', label: 'int32 weights', attrs: { size: 3 }, inputs: () => ({ x: tf.tensor([2, 2, 0, 1, 4], [5], 'int32'), weights: tf.tensor([3, -1, 7, 2, 5], [5], 'int32') }) },
  ...[[0, 10, 1], [0, 1, 0.1], [5, -3, -2], [2, 10, 3], [3, 3, 1], [10, 2, 1], [0, 10, -1], [10, 2.5, 1], [7, 1, 0.5]]
    .flatMap(([start, stop, step]) => ['float32', 'int32'].map((dtype) => ({
      kernel: 'Range', label: `${dtype} ${start}:${stop}:${step}`, attrs: { start, stop, step, dtype }, inputs: () => ({}),
    }))),
];

interface Result { dtype: string; shape: number[]; values: number[] }

async function run(backend: string, c: Case): Promise<Result> {
  await tf.setBackend(backend);
  const inputs = c.inputs();
  const attrs = (c.attrs ?? {}) as tf.NamedAttrMap;
  const out = tf.engine().runKernel(c.kernel, inputs as tf.NamedTensorMap, attrs) as tf.Tensor;
  const result = { dtype: out.dtype, shape: out.shape, values: Array.from(out.dataSync()) };
  tf.dispose([out, ...Object.values(inputs)]);
  return result;
}

const liveNativeTensors = () => (tf.memory() as unknown as { numNativeTensors: number }).numNativeTensors;

function close(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (actual === expected) return true;  // also ±Infinity
  return Math.abs(actual - expected) <= 1e-5 * Math.max(Math.abs(expected), 1e-1);
}

for (const c of CASES) {
  test(`${c.kernel} ${c.label ?? ''} matches cpu`, async () => {
    assert.ok(nativeKernelNames.has(c.kernel), `${c.kernel} is not native`);
    const expected = await run('cpu', c);
    await tf.setBackend('torch');
    const before = liveNativeTensors();
    const actual = await run('torch', c);
    assert.equal(liveNativeTensors(), before, 'native tensors leaked');
    assert.equal(actual.dtype, expected.dtype, 'dtype');
    assert.deepEqual(actual.shape, expected.shape, 'shape');
    const bad = actual.values.findIndex((v, k) => !close(v, expected.values[k]));
    assert.ok(bad < 0 && actual.values.length === expected.values.length,
      `value ${bad}: torch ${actual.values[bad]}, cpu ${expected.values[bad]}\n` +
      ` torch ${actual.values}\n cpu   ${expected.values}`);
  });
}

// tfjs's cpu Select repeats t[i] / e[i] over row i for a rank-1 condition (tf.where never sends one: it broadcasts
// the condition first); torch follows TensorFlow's Select, choosing whole rows.
test('Select with a rank-1 condition chooses rows', async () => {
  await tf.setBackend('torch');
  const [t, e] = [f(1)(), f(2)()];
  const condition = tf.tensor([1, 0, 0, 1], [4], 'bool');
  const rows = tf.engine().runKernel('Select', { condition, t, e }) as tf.Tensor;
  const full = tf.tile(tf.tensor([1, 0, 0, 1], [4, 1], 'bool'), [1, 6]);
  const expected = tf.engine().runKernel('Select', { condition: full, t, e }) as tf.Tensor;
  assert.deepEqual(Array.from(rows.dataSync()), Array.from(expected.dataSync()));
});
