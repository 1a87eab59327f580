// Data ids: every native kernel makes as many new data ids as tfjs-backend-cpu's kernel, and shares an input's data
// id where cpu's does (Reshape, ExpandDims, Identity, a same-dtype Cast...; the differences are listed), so tfjs's test-mode leak check
// (engine.checkKernelForMemLeak, on when the IS_TEST flag is) holds on `torch` as it does on cpu, for kernels and for
// the customGrad ops (fused matMul and convolutions, conv2dBiasActivation, log-softmax, log-sigmoid) that save tensors
// while running, and for LayersModel.fit and fitDataset.
// Run: node --conditions=source --import tsx --test test/view_ids.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { conv2dBiasActivation, fusedAdam, nativeKernelNames } from '../src/index';
import { random } from './random_inputs';

type Inputs = Record<string, tf.Tensor> | tf.Tensor[];
interface Case {
  kernel: string;
  inputs: () => Inputs;
  attrs?: Record<string, unknown>;
  label?: string;
  /** A kernel cpu does not have (batchNormTraining composes ops there): the ids torch must make. */
  torchOnly?: { newIds: number; shares: (string | null)[] };
}

const f = (shape: number[], seed = 1, lo = 0.1, hi = 0.9) =>
  tf.tensor(random(shape.reduce((a, b) => a * b, 1), lo, hi, seed), shape, 'float32');
const i32 = (values: number[], shape = [values.length]) => tf.tensor(values, shape, 'int32');
const bool = (shape: number[], seed = 1) =>
  tf.tensor(random(shape.reduce((a, b) => a * b, 1), 0, 2, seed).map(Math.floor), shape, 'bool');
const x23 = () => ({ x: f([2, 3]) });
const pool = { filterSize: 2, strides: 2, pad: 'valid' };
const conv = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 };
const noMasks = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };

const UNARY = ['Abs', 'Neg', 'Exp', 'Expm1', 'Log', 'Log1p', 'Sqrt', 'Rsqrt', 'Square', 'Reciprocal', 'Sin', 'Cos',
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Tanh', 'Asinh', 'Acosh', 'Atanh', 'Erf', 'Floor', 'Ceil', 'Round',
  'Sign', 'IsNan', 'IsInf', 'IsFinite', 'Relu', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Softplus', 'ZerosLike',
  'OnesLike', 'Identity'];
const BINARY = ['Add', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Mod', 'Pow', 'Maximum', 'Minimum',
  'SquaredDifference', 'Atan2', 'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual'];

const CASES: Case[] = [
  ...UNARY.map((kernel) => ({ kernel, inputs: x23 })),
  ...BINARY.map((kernel) => ({ kernel, inputs: () => ({ a: f([2, 3], 1), b: f([2, 3], 2) }) })),
  { kernel: 'LogicalAnd', inputs: () => ({ a: bool([2, 3], 1), b: bool([2, 3], 2) }) },
  { kernel: 'LogicalOr', inputs: () => ({ a: bool([2, 3], 1), b: bool([2, 3], 2) }) },
  { kernel: 'LogicalNot', inputs: () => ({ x: bool([2, 3]) }) },
  { kernel: 'AddN', inputs: () => [f([2, 3], 1), f([2, 3], 2)] },
  { kernel: 'AddN', label: 'one input', inputs: () => [f([2, 3])] },
  { kernel: 'Select', inputs: () => ({ condition: bool([2, 3]), t: f([2, 3], 1), e: f([2, 3], 2) }) },
  { kernel: 'ClipByValue', inputs: x23, attrs: { clipValueMin: 0.2, clipValueMax: 0.6 } },
  { kernel: 'Step', inputs: x23, attrs: { alpha: 0 } },
  { kernel: 'LeakyRelu', inputs: x23, attrs: { alpha: 0.2 } },
  { kernel: 'Prelu', inputs: () => ({ x: f([2, 3]), alpha: f([3], 2) }) },
  { kernel: 'EluGrad', inputs: () => ({ dy: f([2, 3], 1), y: f([2, 3], 2) }) },
  { kernel: 'TorchReluGrad', inputs: () => ({ dy: f([2, 3], 1), x: f([2, 3], 2, -1, 1) }) },
  { kernel: 'FusedAdamUpdate', attrs: { beta1: 0.9, beta2: 0.999, alpha: 0.01, epsilon: 1e-7, decay: 1 },
    inputs: () => ({ variable: f([3], 1), gradient: f([3], 2), m: f([3], 3), v: f([3], 4) }) },
  { kernel: 'TorchBatchNormTraining', attrs: { varianceEpsilon: 1e-3 }, torchOnly: { newIds: 4, shares: [null, null, null, null] },
    inputs: () => ({ x: f([2, 3, 3, 2], 1), scale: f([2], 2), offset: f([2], 3) }) },
  { kernel: 'TorchBatchNormTrainingGrad', attrs: { varianceEpsilon: 1e-3 }, torchOnly: { newIds: 3, shares: [null, null, null] },
    inputs: () => ({ dy: f([2, 3, 3, 2], 1), x: f([2, 3, 3, 2], 2), scale: f([2], 3), mean: f([2], 4), inverseStd: f([2], 5) }) },
  { kernel: 'TorchConv2DBiasActivationGrad', attrs: { strides: 1, pad: 'valid', dilations: 1, activation: 'relu' },
    torchOnly: { newIds: 3, shares: [null, null, null] },
    inputs: () => ({ dy: f([2, 2, 2, 3], 1), x: f([2, 4, 4, 2], 2), filter: f([3, 3, 2, 3], 3), y: f([2, 2, 2, 3], 4, -1, 1) }) },
  { kernel: 'TorchConv2DBiasActivationGrad', label: 'without the input gradient',
    attrs: { strides: 1, pad: 'same', dilations: 1, activation: 'linear', inputGradient: false },
    torchOnly: { newIds: 2, shares: [null, null] },
    inputs: () => ({ dy: f([2, 4, 4, 3], 1), x: f([2, 4, 4, 2], 2), filter: f([3, 3, 2, 3], 3) }) },
  // dtype and creation
  ...([['float32', 'float32'], ['float32', 'int32'], ['float32', 'bool'], ['int32', 'int32'], ['int32', 'float32'],
    ['bool', 'float32'], ['bool', 'int32'], ['int32', 'bool']] as const).map(([from, dtype]) => ({
    kernel: 'Cast', label: `${from} -> ${dtype}`, attrs: { dtype },
    inputs: () => ({ x: tf.tensor([0, 1, 2, 1, 0, 3], [2, 3], from) }),
  })),
  { kernel: 'Fill', attrs: { shape: [2, 3], value: 1.5, dtype: 'float32' }, inputs: () => ({}) },
  { kernel: 'Range', attrs: { start: 0, stop: 5, step: 1, dtype: 'float32' }, inputs: () => ({}) },
  { kernel: 'OneHot', attrs: { depth: 3, onValue: 1, offValue: 0, dtype: 'float32' }, inputs: () => ({ indices: i32([0, 2]) }) },
  { kernel: 'Bincount', attrs: { size: 4 }, inputs: () => ({ x: i32([1, 3, 1, 5]), weights: f([4]) }) },
  { kernel: 'Multinomial', attrs: { numSamples: 4, seed: 1, normalized: false }, inputs: () => ({ logits: f([1, 3]) }) },
  // shape and indexing: the views
  { kernel: 'Reshape', inputs: x23, attrs: { shape: [3, 2] } },
  { kernel: 'Reshape', label: 'int32, -1', inputs: () => ({ x: i32([1, 2, 3, 4, 5, 6], [2, 3]) }), attrs: { shape: [-1] } },
  { kernel: 'Reshape', label: 'bool, same shape', inputs: () => ({ x: bool([2, 3]) }), attrs: { shape: [2, 3] } },
  { kernel: 'Reshape', label: 'complex64 (on cpu)', inputs: () => ({ x: tf.complex(f([2, 3], 1), f([2, 3], 2)) }),
    attrs: { shape: [3, 2] } },
  { kernel: 'ExpandDims', inputs: () => ({ input: f([2, 3]) }), attrs: { dim: 1 } },
  { kernel: 'ExpandDims', label: 'dim -1', inputs: () => ({ input: i32([1, 2, 3]) }), attrs: { dim: -1 } },
  { kernel: 'Slice', inputs: x23, attrs: { begin: [0, 1], size: [2, 2] } },
  { kernel: 'Slice', label: 'whole', inputs: x23, attrs: { begin: [0, 0], size: [2, 3] } },
  { kernel: 'StridedSlice', inputs: x23, attrs: { begin: [0, 0], end: [2, 3], strides: [1, 2], ...noMasks } },
  { kernel: 'StridedSlice', label: 'whole', inputs: x23, attrs: { begin: [0, 0], end: [2, 3], strides: [1, 1], ...noMasks } },
  { kernel: 'Concat', inputs: () => [f([2, 3], 1), f([1, 3], 2)], attrs: { axis: 0 } },
  { kernel: 'Concat', label: 'one input', inputs: () => [f([2, 3])], attrs: { axis: 0 } },
  { kernel: 'Concat', label: 'one non-empty', inputs: () => [f([2, 3]), f([0, 3])], attrs: { axis: 0 } },
  { kernel: 'Pack', inputs: () => [f([2, 3], 1), f([2, 3], 2)], attrs: { axis: 0 } },
  { kernel: 'Unpack', inputs: () => ({ value: f([2, 3]) }), attrs: { axis: 0 } },
  { kernel: 'SplitV', inputs: x23, attrs: { numOrSizeSplits: [1, 2], axis: 1 } },
  { kernel: 'Reverse', inputs: x23, attrs: { dims: [0] } },
  { kernel: 'Reverse', label: 'no axes', inputs: x23, attrs: { dims: [] } },
  { kernel: 'Transpose', inputs: x23, attrs: { perm: [1, 0] } },
  { kernel: 'Tile', inputs: x23, attrs: { reps: [2, 1] } },
  { kernel: 'PadV2', inputs: x23, attrs: { paddings: [[1, 0], [0, 1]], constantValue: 0 } },
  { kernel: 'MirrorPad', inputs: x23, attrs: { paddings: [[1, 1], [1, 1]], mode: 'reflect' } },
  { kernel: 'GatherV2', inputs: () => ({ x: f([2, 3]), indices: i32([1, 0]) }), attrs: { axis: 0, batchDims: 0 } },
  { kernel: 'GatherNd', inputs: () => ({ params: f([2, 3]), indices: i32([0, 1, 1, 2], [2, 2]) }) },
  // reductions and scans
  ...['Sum', 'Mean', 'Min', 'Prod'].map((kernel) => ({ kernel, inputs: x23, attrs: { axis: [1], keepDims: false } })),
  ...['Sum', 'Mean', 'Min', 'Prod'].map((kernel) => ({ kernel, label: 'no axes', inputs: x23, attrs: { axis: [], keepDims: false } })),
  { kernel: 'Max', inputs: x23, attrs: { reductionIndices: [1], keepDims: false } },
  { kernel: 'Max', label: 'no axes', inputs: x23, attrs: { reductionIndices: [], keepDims: false } },
  { kernel: 'Sum', label: 'int32, no axes', inputs: () => ({ x: i32([1, 2, 3]) }), attrs: { axis: [], keepDims: false } },
  { kernel: 'All', inputs: () => ({ x: bool([2, 3]) }), attrs: { axis: [1], keepDims: false } },
  { kernel: 'Any', inputs: () => ({ x: bool([2, 3]) }), attrs: { axis: [1], keepDims: false } },
  { kernel: 'ArgMax', inputs: x23, attrs: { axis: 1 } },
  { kernel: 'ArgMin', inputs: x23, attrs: { axis: 1 } },
  { kernel: 'Cumsum', inputs: x23, attrs: { axis: 1, exclusive: true, reverse: true } },
  { kernel: 'Cumprod', inputs: x23, attrs: { axis: 1, exclusive: false, reverse: false } },
  { kernel: 'Softmax', inputs: () => ({ logits: f([2, 3]) }), attrs: { dim: -1 } },
  { kernel: 'TopK', inputs: x23, attrs: { k: 2, sorted: true } },
  // convolution, pooling, matmul, normalisation, resizing
  { kernel: 'BatchMatMul', inputs: () => ({ a: f([1, 2, 3], 1), b: f([1, 3, 4], 2) }),
    attrs: { transposeA: false, transposeB: false } },
  { kernel: '_FusedMatMul', inputs: () => ({ a: f([1, 2, 3], 1), b: f([1, 3, 4], 2), bias: f([4], 3) }),
    attrs: { transposeA: false, transposeB: false, activation: 'relu' } },
  { kernel: 'Conv2D', inputs: () => ({ x: f([1, 4, 4, 2], 1), filter: f([2, 2, 2, 3], 2) }), attrs: conv },
  { kernel: 'FusedConv2D', inputs: () => ({ x: f([1, 4, 4, 2], 1), filter: f([2, 2, 2, 3], 2), bias: f([3], 3) }),
    attrs: { ...conv, activation: 'relu' } },
  { kernel: 'Conv2DBackpropFilter', inputs: () => ({ x: f([1, 4, 4, 2], 1), dy: f([1, 3, 3, 3], 2) }),
    attrs: { ...conv, filterShape: [2, 2, 2, 3] } },
  { kernel: 'Conv2DBackpropInput', inputs: () => ({ dy: f([1, 3, 3, 3], 1), filter: f([2, 2, 2, 3], 2) }),
    attrs: { ...conv, inputShape: [1, 4, 4, 2] } },
  { kernel: 'DepthwiseConv2dNative', inputs: () => ({ x: f([1, 4, 4, 2], 1), filter: f([2, 2, 2, 1], 2) }), attrs: conv },
  { kernel: 'FusedDepthwiseConv2D', inputs: () => ({ x: f([1, 4, 4, 2], 1), filter: f([2, 2, 2, 1], 2), bias: f([2], 3) }),
    attrs: { ...conv, activation: 'relu' } },
  { kernel: 'DepthwiseConv2dNativeBackpropFilter', inputs: () => ({ x: f([1, 4, 4, 2], 1), dy: f([1, 3, 3, 2], 2) }),
    attrs: { ...conv, filterShape: [2, 2, 2, 1] } },
  { kernel: 'DepthwiseConv2dNativeBackpropInput', inputs: () => ({ dy: f([1, 3, 3, 2], 1), filter: f([2, 2, 2, 1], 2) }),
    attrs: { ...conv, inputShape: [1, 4, 4, 2] } },
  { kernel: 'MaxPool', inputs: () => ({ x: f([1, 4, 4, 2]) }), attrs: pool },
  { kernel: 'AvgPool', inputs: () => ({ x: f([1, 4, 4, 2]) }), attrs: pool },
  ...['MaxPool', 'AvgPool'].map((kernel) => ({ kernel, label: '1x1', inputs: () => ({ x: f([1, 4, 4, 2]) }),
    attrs: { filterSize: 1, strides: 1, pad: 'valid' } })),
  { kernel: 'MaxPoolGrad', inputs: () => ({ dy: f([1, 2, 2, 2], 1), input: f([1, 4, 4, 2], 2), output: f([1, 2, 2, 2], 3) }),
    attrs: pool },
  { kernel: 'AvgPoolGrad', inputs: () => ({ dy: f([1, 2, 2, 2], 1), input: f([1, 4, 4, 2], 2) }), attrs: pool },
  { kernel: 'FusedBatchNorm', attrs: { varianceEpsilon: 0.001 },
    inputs: () => ({ x: f([2, 3], 1), mean: f([3], 2), variance: f([3], 3), offset: f([3], 4), scale: f([3], 5) }) },
  ...['ResizeBilinear', 'ResizeNearestNeighbor'].map((kernel) => ({
    kernel, inputs: () => ({ images: f([1, 2, 2, 1]) }), attrs: { alignCorners: false, halfPixelCenters: false, size: [4, 4] },
  })),
  ...['ResizeBilinearGrad', 'ResizeNearestNeighborGrad'].map((kernel) => ({
    kernel, inputs: () => ({ images: f([1, 2, 2, 1], 1), dy: f([1, 4, 4, 1], 2) }),
    attrs: { alignCorners: false, halfPixelCenters: false },
  })),
];

/**
 * Where `torch` and cpu differ, what `torch` does and why. Fewer ids than cpu never trips the leak check.
 * cpu's Cast to a dtype that loses nothing (int32 or bool to float32, bool to int32) hands back the input's typed
 * array under the new dtype, so a float32 tensor's dataSync() gives an Int32Array or Uint8Array there; a libtorch
 * tensor has one dtype, and the converted copy keeps reads typed as the tensor says (one new id for one output, which
 * the check accepts).
 */
const sharesX: Ids = { newIds: 0, shares: ['x'] };
const castCopies = 'a libtorch tensor has one dtype: the conversion is a new tensor, so reads are typed as the tensor says';
const DIFFERENCES: Record<string, { torch: Ids; reason: string }> = {
  'Cast int32 -> float32': { torch: { newIds: 1, shares: [null] }, reason: castCopies },
  'Cast bool -> float32': { torch: { newIds: 1, shares: [null] }, reason: castCopies },
  'Cast bool -> int32': { torch: { newIds: 1, shares: [null] }, reason: castCopies },
  'Slice whole': { torch: sharesX, reason: 'the slice is x itself: shared, not copied' },
  'Reverse no axes': { torch: sharesX, reason: 'reversing no axis leaves x: shared, not copied' },
  ...Object.fromEntries(['Sum', 'Mean', 'Min', 'Prod', 'Max', 'Sum int32,'].map((k) => [`${k} no axes`,
    { torch: sharesX, reason: 'reducing no axis leaves x (in its dtype): shared, not copied' }])),
};

/** New data ids a kernel call leaves, and for each output the name of the input whose data id it shares. */
interface Ids { newIds: number; shares: (string | null)[] }

async function idsOf(backendName: string, c: Case): Promise<Ids> {
  await tf.setBackend(backendName);
  tf.env().set('IS_TEST', true);  // the engine checks every kernel for leaked data ids
  const inputs = c.inputs();
  const named = Object.entries(inputs) as [string, tf.Tensor][];
  const before = tf.backend().numDataIds();
  const out = tf.engine().runKernel(c.kernel, inputs as tf.NamedTensorMap, (c.attrs ?? {}) as tf.NamedAttrMap);
  const outs = Array.isArray(out) ? out : [out as tf.Tensor];
  const ids = {
    newIds: tf.backend().numDataIds() - before,
    shares: outs.map((o) => named.find(([, t]) => t.dataId === o.dataId)?.[0] ?? null),
  };
  tf.dispose([...outs, ...named.map(([, t]) => t)]);
  return ids;
}

test('every native kernel has a case here', () => {
  const covered = new Set(CASES.map((c) => c.kernel));
  assert.deepEqual([...nativeKernelNames].filter((k) => !covered.has(k)), []);
});

for (const c of CASES) {
  const name = `${c.kernel}${c.label ? ` ${c.label}` : ''}`;
  test(`${name}: ${c.torchOnly ? 'the new data ids it should make (no cpu kernel)' : 'the same new data ids as cpu'}`, async () => {
    if (c.torchOnly !== undefined) {
      assert.deepEqual(await idsOf('torch', c), c.torchOnly);
      return;
    }
    const cpu = await idsOf('cpu', c);
    const torch = await idsOf('torch', c);
    if (name in DIFFERENCES) {
      const { torch: expected, reason } = DIFFERENCES[name];
      assert.deepEqual(torch, expected, reason);
      assert.notDeepEqual(cpu, torch, 'cpu does the same now: drop the entry from DIFFERENCES');
    } else {
      assert.deepEqual(torch, cpu);
    }
  });
}

test('a reshaped tensor shares its data and outlives the original, in JS or in libtorch', async () => {
  await tf.setBackend('torch');
  const live = () => (tf.memory() as unknown as { numNativeTensors: number }).numNativeTensors;
  const baseline = live();
  for (const native of [false, true]) {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    if (native) tf.neg(x).dispose();  // moves x's data into libtorch
    const y = tf.reshape(x, [3, 2]);
    const z = tf.expandDims(y, 0);
    assert.ok(x.dataId === y.dataId && y.dataId === z.dataId);
    assert.equal(tf.backend().refCount(x.dataId), 3);
    x.dispose();
    // Kernels see each alias in its own shape: [3,2] @ [2,1] and [1,3,2] + [2].
    tf.tidy(() => {
      assert.deepEqual(Array.from(tf.matMul(y, tf.tensor([1, -1], [2, 1])).dataSync()), [-1, -1, -1]);
      assert.deepEqual(tf.add(z, tf.tensor([10, 20])).arraySync(), [[[11, 22], [13, 24], [15, 26]]]);
    });
    y.dispose();
    assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(z.shape, [1, 3, 2]);
    z.dispose();
    assert.equal(tf.backend().refCount(z.dataId), 0);
  }
  assert.equal(live(), baseline);
  // complex64 runs on cpu's kernels, which read the parts' shapes: they follow the alias.
  const c = tf.reshape(tf.complex([1, 2, 3, 4], [5, 6, 7, 8]), [2, 2]);
  assert.deepEqual([tf.real(c).arraySync(), tf.imag(c).shape], [[[1, 2], [3, 4]], [2, 2]]);
});

test('MaxPoolGrad uses the indices MaxPool kept for its output, not for a reshaped alias of it', async () => {
  // y = maxPool(x) is [1,2,2,1]; reshaped to [1,2,1,2] it is also the shape of maxPool(x reshaped to [1,4,2,2]),
  // whose argmax positions differ: the indices kept on y's entry must not be used for it.
  const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap;
  const results: number[][] = [];
  for (const backendName of ['cpu', 'torch']) {
    await tf.setBackend(backendName);
    const x = tf.tensor([9, 1, 2, 8, 3, 4, 7, 5, 6, 0, 1, 2, 3, 9, 8, 4], [1, 4, 4, 1]);
    const y = tf.engine().runKernel('MaxPool', { x }, attrs) as tf.Tensor;
    const grad = (input: tf.Tensor, output: tf.Tensor, dy: tf.Tensor) =>
      Array.from((tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as tf.Tensor).dataSync());
    const dy = tf.tensor([1, 2, 3, 4]);
    results.push([...grad(x, y, tf.reshape(dy, [1, 2, 2, 1])),
      ...grad(tf.reshape(x, [1, 4, 2, 2]), tf.reshape(y, [1, 2, 1, 2]), tf.reshape(dy, [1, 2, 1, 2]))]);
    tf.dispose([x, y, dy]);
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[0].slice(0, 16), [1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0]);
});

// (tf.losses.softmaxCrossEntropy is left out: its forward keeps an intermediate for the gradient, which the check
// counts as a leak on cpu too.)
test('customGrad ops pass the leak check under tf.grad, with cpu\'s gradients', async () => {
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['fused.matMul', (x) => tf.fused.matMul({ a: tf.reshape(x, [2, 3]), b: f([3, 2], 2), bias: f([2], 3), activation: 'relu' })],
    ['fused.matMul without bias', (x) => tf.fused.matMul({ a: tf.reshape(x, [2, 3]), b: f([3, 2], 2), transposeA: false })],
    ['fused.conv2d', (x) => tf.fused.conv2d({ x: tf.reshape(x, [1, 2, 3, 1]) as tf.Tensor4D,
      filter: f([2, 2, 1, 2], 2) as tf.Tensor4D, strides: 1, pad: 'same', bias: f([2], 3), activation: 'relu' })],
    ['conv2dBiasActivation', (x) => conv2dBiasActivation(tf.reshape(x, [1, 2, 3, 1]) as tf.Tensor4D,
      f([2, 2, 1, 2], 2) as tf.Tensor4D, f([2], 3) as tf.Tensor1D, { strides: 1, pad: 'same', dilations: 1, activation: 'relu' })],
    ['fused.depthwiseConv2d', (x) => tf.fused.depthwiseConv2d({ x: tf.reshape(x, [1, 2, 3, 1]) as tf.Tensor4D,
      filter: f([2, 2, 1, 2], 2) as tf.Tensor4D, strides: 1, pad: 'same', bias: f([2], 3), activation: 'elu' })],
    ['logSoftmax', (x) => tf.logSoftmax(tf.reshape(x, [2, 3]))],
    ['logSigmoid', (x) => tf.logSigmoid(x)],
  ];
  for (const [name, op] of ops) {
    const grads: number[][] = [];
    for (const backendName of ['cpu', 'torch']) {
      await tf.setBackend(backendName);
      tf.env().set('IS_TEST', true);
      const x = f([6], 1, -1, 1);
      const g = tf.grad((t: tf.Tensor) => tf.sum(op(t)))(x);
      grads.push(Array.from(g.dataSync()));
      tf.dispose([x, g]);
    }
    grads[1].forEach((v, k) => assert.ok(Math.abs(v - grads[0][k]) < 1e-5, `${name}: ${grads[1]} vs cpu ${grads[0]}`));
  }
});

test('LayersModel.fit and fitDataset run with the leak check on, and return tensors to baseline', async () => {
  await tf.setBackend('torch');
  tf.env().set('IS_TEST', true);
  const model = tfl.sequential({ layers: [
    tfl.layers.dense({ inputShape: [4], units: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
    tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
  ] });
  model.compile({ optimizer: fusedAdam(0.01), loss: 'meanSquaredError' });
  const x = f([8, 4], 1);
  const y = f([8, 2], 2);
  await model.fit(x, y, { batchSize: 4, epochs: 1, verbose: 0 });  // optimizer state is made on the first step
  const tensors = tf.memory().numTensors;
  const history = await model.fit(x, y, { batchSize: 4, epochs: 2, verbose: 0 });
  assert.equal(tf.memory().numTensors, tensors);
  const losses = history.history.loss as number[];
  assert.ok(losses.every(Number.isFinite) && losses[1] < losses[0], `losses ${losses}`);
  // fitDataset needs only an object with iterator() (what tf.data.Dataset gives).
  const batches = [0, 1].map((k) => ({ xs: tf.slice(x, [4 * k, 0], [4, 4]), ys: tf.slice(y, [4 * k, 0], [4, 2]) }));
  const dataset = { size: 2, iterator: async () => {
    let k = 0;
    return { next: async () => (k < 2 ? { value: batches[k++], done: false } : { value: null, done: true }) };
  } };
  const fitted = await model.fitDataset(dataset as unknown as Parameters<typeof model.fitDataset>[0], { epochs: 1, verbose: 0 });
  assert.ok(Number.isFinite(fitted.history.loss[0] as number));
  model.dispose();
  tf.dispose([x, y, ...batches.flatMap((b) => [b.xs, b.ys])]);
});
