// Every op with a native kernel on its forward or backward path, against PyTorch autograd: tf.grads on `torch`
// must give the gradients of sum(op(x) * dy) that fixtures/gradients.json holds (float64 PyTorch, written by
// fixtures/make_gradient_fixtures.py), and the op's output too. The same run on `cpu` cross-checks the fixture.
// Tolerance, per element: |tfjs - PyTorch| <= 1e-4 + 1e-4 * |PyTorch|. IS_TEST is on, so the engine also fails
// any kernel that leaks a data id.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Prod's and GatherV2's (batchDims) gradients call tensor methods (x.reshape, x.split) that plain tfjs-core does not
// register: the backend does (src/tensor_methods.ts), so this test imports no chained ops of its own.

import { nativeKernelNames } from '../src/index';
import { OPS, type Params } from './gradient_ops';
import { type KernelSpy, spyOnKernels } from './kernel_spy';
import { random } from './random_inputs';

const ATOL = 1e-4;
const RTOL = 1e-4;

type InputSpec = { shape: number[]; seed: number; range: [number, number] } | { shape: number[]; dtype: 'int32'; values: number[] };
interface GradientCase {
  name: string;
  op: string;
  params: Params;
  inputs: Record<string, InputSpec>;
  wrt: string[];
  dy: { seed: number; range: [number, number] };
  y: { shape: number[]; values: number[] };
  grads?: Record<string, number[]>;
  noGradient?: string;
}

const fixture = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'gradients.json'), 'utf8')) as { cases: GradientCase[] };
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function makeInputs(c: GradientCase): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(c.inputs).map(([name, s]) => [name, 'values' in s
    ? tf.tensor(s.values, s.shape, 'int32')
    : tf.tensor(random(size(s.shape), s.range[0], s.range[1], s.seed), s.shape)]));
}

/** The element furthest outside the tolerance (by ratio of its error to its allowance), or null if none is. */
function worstElement(actual: ArrayLike<number>, expected: number[]): { index: number; ratio: number } | null {
  let worst: { index: number; ratio: number } | null = null;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (ATOL + RTOL * Math.abs(expected[i]));
    if (!(ratio <= 1) && (worst === null || !(ratio <= worst.ratio))) worst = { index: i, ratio };
  }
  return worst;
}

function unravel(index: number, shape: number[]): number[] {
  const out: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(index % shape[d]);
    index = Math.floor(index / shape[d]);
  }
  return out;
}

function assertMatches(actual: tf.Tensor, expected: number[], shape: number[], what: string): void {
  assert.deepEqual(actual.shape, shape, `${what}: shape`);
  const values = actual.dataSync();
  const worst = worstElement(values, expected);
  if (worst !== null) {
    const i = worst.index;
    assert.fail(`${what}: worst element [${unravel(i, shape).join(', ')}] is ${values[i]}, PyTorch ${expected[i]} ` +
      `(|diff| ${Math.abs(values[i] - expected[i]).toExponential(2)} > ${ATOL} + ${RTOL}*|PyTorch|)`);
  }
}

/**
 * Where tfjs itself (not this backend) departs from the true gradient, each with its reason: the case's gradients
 * on the named backends must still depart from PyTorch in the stated way (so a fix upstream or here shows up as a
 * failure that asks to delete the entry), and where both backends are listed they must agree with each other.
 */
type Departure = { backends: string[]; reason: string } & ({ throws: RegExp } | { differs: true });
const CPU_AVG_POOL = 'tfjs-backend-cpu\'s AvgPoolGrad divides every window by kh*kw, padding included, while AvgPool ' +
  'averages only the pixels inside the image; the gradient (PyTorch\'s, TensorFlow\'s, and torch\'s since ' +
  'kernels/AvgPoolGrad.ts) divides by the pixels inside';
const CPU_RESIZE_BILINEAR = 'tfjs-backend-cpu\'s ResizeBilinearGrad returns [batch, width, height, depth] and ignores ' +
  'halfPixelCenters';
const CPU_RESIZE_NEAREST = 'tfjs-backend-cpu\'s ResizeNearestNeighborGrad offsets dy by the images\' batch stride ' +
  '(wrong for batch > 1) and ignores halfPixelCenters';
// tfjs-core's gradients of MirrorPad, BatchMatMul and SquaredDifference (broadcast) and Cumsum (axis not last) were
// wrong too; src/gradients/ replaces them on every backend, so those cases must match PyTorch on torch and cpu.
const DEPARTURES: Record<string, Departure> = {
  'avgPool 3x3 same strides 2': { backends: ['cpu'], differs: true, reason: CPU_AVG_POOL },
  'avgPool 3x3 same strides 1': { backends: ['cpu'], differs: true, reason: CPU_AVG_POOL },
  'resizeBilinear up legacy': { backends: ['cpu'], throws: /has shape '2,5,4,2'/, reason: CPU_RESIZE_BILINEAR },
  'resizeBilinear up alignCorners': { backends: ['cpu'], throws: /has shape '2,5,4,2'/, reason: CPU_RESIZE_BILINEAR },
  'resizeBilinear up halfPixelCenters': { backends: ['cpu'], throws: /has shape '2,5,4,2'/, reason: CPU_RESIZE_BILINEAR },
  'resizeBilinear down halfPixelCenters': { backends: ['cpu'], throws: /has shape '1,5,4,3'/, reason: CPU_RESIZE_BILINEAR },
  'resizeBilinear down alignCorners': { backends: ['cpu'], throws: /has shape '1,5,4,3'/, reason: CPU_RESIZE_BILINEAR },
  'resizeNearestNeighbor up legacy': { backends: ['cpu'], differs: true, reason: CPU_RESIZE_NEAREST },
  'resizeNearestNeighbor up alignCorners': { backends: ['cpu'], differs: true, reason: CPU_RESIZE_NEAREST },
  'resizeNearestNeighbor up halfPixelCenters': { backends: ['cpu'], differs: true, reason: CPU_RESIZE_NEAREST },
  'resizeNearestNeighbor down halfPixelCenters': { backends: ['cpu'], differs: true, reason: CPU_RESIZE_NEAREST },
};

/**
 * Runs one case on the active backend: the forward output against PyTorch, then the gradient of every
 * differentiable input (against PyTorch, or as DEPARTURES says). Returns the gradients' values.
 */
function check(c: GradientCase, backend: string): Float32Array[] {
  return tf.tidy(() => {
    const inputs = makeInputs(c);
    const op = OPS[c.op];
    assert.ok(op !== undefined, `the fixture names op ${c.op}, which gradient_ops.ts does not have`);
    assertMatches(op(inputs, c.params), c.y.values, c.y.shape, `${c.name} on ${backend}: output`);
    if (c.wrt.length === 0) return [];
    const dy = tf.tensor(random(size(c.y.shape), c.dy.range[0], c.dy.range[1], c.dy.seed), c.y.shape);
    const f = (...xs: tf.Tensor[]) => op({ ...inputs, ...Object.fromEntries(c.wrt.map((k, i) => [k, xs[i]])) }, c.params);
    const gradients = () => tf.grads(f)(c.wrt.map((k) => inputs[k]), dy);
    const departure = DEPARTURES[c.name]?.backends.includes(backend) ? DEPARTURES[c.name] : undefined;
    if (departure !== undefined && 'throws' in departure) {
      assert.throws(gradients, departure.throws, `${c.name} on ${backend} no longer throws: delete its DEPARTURES entry`);
      return [];
    }
    const grads = gradients();
    c.wrt.forEach((k, i) => {
      const what = `${c.name} on ${backend}: d${k}`;
      if (departure === undefined) assertMatches(grads[i], c.grads![k], inputs[k].shape, what);
      else assert.notEqual(worstElement(grads[i].dataSync(), c.grads![k]), null, `${what} now matches PyTorch: delete its DEPARTURES entry`);
    });
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

// Native torch kernels that ran across all cases, checked at the end against the native backward list.
let spy: KernelSpy;

before(() => {
  tf.env().set('IS_TEST', true);
  spy = spyOnKernels(nativeKernelNames);
});
after(() => {
  tf.env().set('IS_TEST', false);
  spy.restore();
});

for (const c of fixture.cases) {
  test(c.name, async () => {
    await tf.setBackend('torch');
    const numTensors = tf.memory().numTensors;
    const torch = check(c, 'torch');
    // (A gradient that throws leaves tf.grads' intermediates behind: the engine does not unwind them.)
    if (!(DEPARTURES[c.name] !== undefined && 'throws' in DEPARTURES[c.name])) {
      assert.equal(tf.memory().numTensors, numTensors, `${c.name}: tensors leaked on torch`);
    }
    await tf.setBackend('cpu');
    const cpu = check(c, 'cpu');
    await tf.setBackend('torch');
    // Both backends depart from PyTorch the same way: they must at least agree with each other.
    if (DEPARTURES[c.name]?.backends.length === 2 && torch.length > 0) {
      torch.forEach((g, i) => assertMatches(tf.tensor(g), Array.from(cpu[i]), [g.length], `${c.name}: torch vs cpu d${c.wrt[i]}`));
    }
  });
}
test('the fixture covers every family of issue 19 item 4, and gradients of all but the gradient-less ops', () => {
  const ops = new Set(fixture.cases.map((c) => c.op));
  for (const op of ['conv2d', 'depthwiseConv2d', 'conv2dTranspose', 'fusedConv2d', 'fusedMatMul', 'maxPool', 'avgPool',
    'matMul', 'batchNorm', 'relu', 'relu6', 'elu', 'selu', 'leakyRelu', 'prelu', 'sigmoid', 'tanh', 'softplus', 'exp',
    'log', 'sqrt', 'rsqrt', 'square', 'abs', 'sum', 'mean', 'max', 'min', 'prod', 'resizeBilinear',
    'resizeNearestNeighbor', 'pad', 'mirrorPad', 'gather', 'gatherND', 'scatterND', 'softmax', 'logSoftmax', 'concat',
    'slice', 'transpose', 'tile']) assert.ok(ops.has(op), op);
  const forwardOnly = fixture.cases.filter((c) => c.wrt.length === 0);
  assert.deepEqual(forwardOnly.map((c) => c.op).sort(), ['conv2d', 'depthwiseConv2d', 'gatherND', 'scatterND']);
  for (const c of forwardOnly) assert.ok(c.noGradient !== undefined && c.noGradient.includes('tfjs-core'), c.name);
});

test('the backward passes above ran native torch kernels', () => {
  const backward = ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter', 'MaxPoolGrad', 'AvgPoolGrad', 'ResizeBilinearGrad', 'ResizeNearestNeighborGrad',
    'TorchReluGrad', 'EluGrad', 'BatchMatMul', 'FusedConv2D', '_FusedMatMul', 'FusedBatchNorm', 'Softmax'];
  assert.deepEqual(backward.filter((k) => !spy.ran.has(k)), [], 'kernels that no case ran');
  assert.deepEqual(backward.filter((k) => !nativeKernelNames.has(k)), [], 'kernels that are not native');
});

// Beyond the fixture's shapes: a linear op's gradient is its adjoint, so <op(x), dy> = <x, dx> for any x and dy (one
// random pair exposes a wrong adjoint: it would have to miss by a vector orthogonal to x). For matMul, which is linear
// in each input, the same holds for a and for b. Inner products within 1e-4 relative.
const randomTensor = (shape: number[], seed: number) => tf.tensor(random(size(shape), -1, 1, seed), shape);
const dot = (u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(u, v)).dataSync()[0];

function assertAdjoint(what: string, f: (x: tf.Tensor) => tf.Tensor, xShape: number[], seed: number): void {
  tf.tidy(() => {
    const x = randomTensor(xShape, seed);
    const y = f(x);
    const dy = randomTensor(y.shape, seed + 1);
    const dx = tf.grad(f)(x, dy);
    assert.deepEqual(dx.shape, xShape, `${what}: shape of the gradient`);
    const [xDx, yDy] = [dot(x, dx), dot(y, dy)];
    assert.ok(Math.abs(xDx - yDy) <= 1e-4 * Math.max(1, Math.abs(yDy)), `${what}: <x, dx> = ${xDx}, <y, dy> = ${yDy}`);
  });
}

/** Runs `fn` on `backend`, then makes torch active again (the other tests expect it), and checks for leaks. */
async function on(backend: string, fn: () => void): Promise<void> {
  await tf.setBackend(backend);
  try {
    const numTensors = tf.memory().numTensors;
    fn();
    assert.equal(tf.memory().numTensors, numTensors, `tensors leaked on ${backend}`);
  } finally {
    await tf.setBackend('torch');
  }
}

const mirrorPads: Array<[number[], Array<[number, number]>, 'reflect' | 'symmetric']> = [
  [[2, 3, 4], [[1, 1], [0, 2], [3, 0]], 'reflect'],
  [[2, 3, 4], [[2, 0], [1, 3], [0, 4]], 'symmetric'],
  [[1, 5, 4, 2], [[0, 0], [4, 4], [3, 3], [0, 0]], 'symmetric'],
];
const cumsums: Array<[number, boolean, boolean]> = [[0, false, false], [1, true, false], [1, false, true], [2, true, true]];
// [a, b, transposeA, transposeB, backends]. tfjs-backend-cpu's BatchMatMul forward flattens the batch dimensions and
// so broadcasts only where one side's are all 1 or both sides' are equal: [2,1] x [3] runs on torch only.
const matMuls: Array<[number[], number[], boolean, boolean, string[]]> = [
  [[3, 4], [2, 4, 5], false, false, ['torch', 'cpu']],
  [[4, 3], [2, 4, 5], true, false, ['torch', 'cpu']],
  [[1, 4, 3], [2, 5, 4], true, true, ['torch', 'cpu']],
  [[2, 1, 3, 4], [3, 5, 4], false, true, ['torch']],
];
const avgPools: Array<[number[], [number, number], [number, number], 'same' | 'valid' | number]> = [
  [[2, 7, 6, 3], [3, 2], [2, 1], 'same'],
  [[1, 4, 4, 1], [2, 2], [1, 1], 'same'],
  [[1, 6, 7, 2], [5, 5], [2, 2], 'same'],
  [[1, 5, 5, 2], [3, 3], [1, 1], 1],
];

for (const backend of ['torch', 'cpu']) {
  test(`on ${backend}, the replaced gradients of mirrorPad, cumsum and matMul (broadcast) are their forward's adjoints`,
    () => on(backend, () => {
      mirrorPads.forEach(([shape, paddings, mode], i) => assertAdjoint(`mirrorPad ${mode} ${JSON.stringify(paddings)}`,
        (x) => tf.mirrorPad(x, paddings, mode), shape, 10 * i));
      cumsums.forEach(([axis, exclusive, reverse], i) => assertAdjoint(`cumsum axis ${axis} ${exclusive} ${reverse}`,
        (x) => tf.cumsum(x, axis, exclusive, reverse), [3, 4, 5], 100 + 10 * i));
      matMuls.filter((m) => m[4].includes(backend)).forEach(([sa, sb, ta, tb], i) => tf.tidy(() => {
        const [a, b] = [randomTensor(sa, 200 + 10 * i), randomTensor(sb, 205 + 10 * i)];
        assertAdjoint(`matMul [${sa}] x [${sb}] ${ta} ${tb}, in a`, (x) => tf.matMul(x, b, ta, tb), sa, 300 + 10 * i);
        assertAdjoint(`matMul [${sa}] x [${sb}] ${ta} ${tb}, in b`, (x) => tf.matMul(a, x, ta, tb), sb, 400 + 10 * i);
      }));
    }));
}

test('on torch, AvgPoolGrad is the adjoint of AvgPool, with symmetric and asymmetric padding', () => on('torch', () => {
  avgPools.forEach(([shape, filterSize, strides, pad], i) => assertAdjoint(`avgPool ${filterSize} ${strides} ${pad}`,
    (x) => tf.avgPool(x as tf.Tensor4D, filterSize, strides, pad), shape, 500 + 10 * i));
}));

// tfjs-core's mirror_pad_test 'grad' expects [30, 40, 50] (the slice of dy); x[1] is copied to outputs 1, 3 and 5.
for (const backend of ['torch', 'cpu']) {
  test(`on ${backend}, mirrorPad's gradient is TensorFlow's MirrorPadGrad where tfjs-core's suite asserts the old one`,
    () => on(backend, () => tf.tidy(() => {
      const da = tf.grad((x) => tf.mirrorPad(x, [[2, 1]], 'reflect'))(tf.tensor1d([1, 2, 3]), tf.tensor1d([10, 20, 30, 40, 50, 60]));
      assert.deepEqual(Array.from(da.dataSync()), [30, 120, 60]);
    })));
}

// tfjs-core's avg_pool_test 'gradient x=[3,3,1] f=[3,3] s=1 p=explicit' expects dy/9 ([0,1,1,0,2,2,0,3,3]); the windows
// of output column 1 hold 4, 6, 4 and 2 real pixels, so dy [3, 6, 9, 12] / counts = [0.75, 1, 2.25, 6] reaches them.
test('on torch, AvgPoolGrad with explicit padding where tfjs-core\'s suite asserts the old convention', () => on('torch', () => {
  tf.tidy(() => {
    const dx = tf.grad((x) => tf.avgPool(x as tf.Tensor3D, 3, 1, [[0, 0], [1, 2], [0, 1], [0, 0]]))(
      tf.tensor3d([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3, 1]), tf.tensor3d([0, 3, 0, 6, 0, 9, 0, 12], [4, 2, 1]));
    assertMatches(dx, [0, 1.75, 1.75, 0, 4, 4, 0, 9.25, 9.25], [3, 3, 1], 'dx');
  });
}));
