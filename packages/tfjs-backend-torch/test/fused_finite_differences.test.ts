// This backend's fused kernels against finite differences, on `torch`: FusedConv2D and _FusedMatMul with bias and
// each activation, and TorchReluGrad (ReLU's gradient and its own), compared with the gradients tf.grads computes;
// and FusedAdamUpdate, one step against the textbook Adam formula in float64.
// Central differences in float64: f(θ) = Σ kernel(θ)·dy summed in float64 from the kernel's float32 output, each
// element moved by ±h with both points rounded to float32 and the quotient taken over their true distance.
// Tolerance: |finite difference - tf.grads| <= 1e-3 + 1e-3 * |tf.grads|. h = 0.01 and no input exceeds 1 in size,
// so a ±h step moves a pre-activation by at most 0.01: keeping each more than 0.02 from a kink means none crosses.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import { adamUpdate, FusedAdamUpdate, TorchReluGrad } from '../src/index';
import { spyOnKernels } from './kernel_spy';
import { random } from './random_inputs';

const H = 1e-2;
const ATOL = 1e-3;
const RTOL = 1e-3;
const KINK_MARGIN = 0.02;

type Values = Record<string, { values: Float32Array; shape: number[] }>;

function input(shape: number[], lo: number, hi: number, seed: number) {
  return { values: new Float32Array(random(shape.reduce((a, b) => a * b, 1), lo, hi, seed)), shape };
}

const tensors = (v: Values) => Object.fromEntries(Object.entries(v).map(([k, { values, shape }]) => [k, tf.tensor(values, shape)]));

/** Σ run(inputs)·dy in float64. */
function objective(run: (t: Record<string, tf.Tensor>) => tf.Tensor, inputs: Values, dy: Float32Array): number {
  const y = tf.tidy(() => run(tensors(inputs)).dataSync());
  assert.equal(y.length, dy.length);
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i] * dy[i];
  return sum;
}

/**
 * Central differences of the objective w.r.t. every element of inputs[name]. With `batched` (inputs[name] has batch
 * size 1, and the kernel treats images independently) all the moved copies go through the kernel in one call, as
 * one batch, image 2i moved up and 2i+1 down in element i.
 */
function centralDifferences(run: (t: Record<string, tf.Tensor>) => tf.Tensor, inputs: Values, dy: Float32Array,
  name: string, batched = false): Float64Array {
  const { values, shape } = inputs[name];
  const n = values.length;
  const moved = (i: number, sign: number) => {
    const copy = Float32Array.from(values);
    copy[i] = Math.fround(values[i] + sign * H);
    return copy;
  };
  const out = new Float64Array(n);
  if (batched) {
    const batch = new Float32Array(2 * n * n);
    for (let i = 0; i < n; i++) {
      batch.set(moved(i, 1), 2 * i * n);
      batch.set(moved(i, -1), (2 * i + 1) * n);
    }
    const y = tf.tidy(() => run(tensors({ ...inputs, [name]: { values: batch, shape: [2 * n, ...shape.slice(1)] } })).dataSync());
    const f = (image: number) => {
      let sum = 0;
      for (let j = 0; j < dy.length; j++) sum += y[image * dy.length + j] * dy[j];
      return sum;
    };
    for (let i = 0; i < n; i++) out[i] = (f(2 * i) - f(2 * i + 1)) / (moved(i, 1)[i] - moved(i, -1)[i]);
    return out;
  }
  for (let i = 0; i < n; i++) {
    const [plus, minus] = [moved(i, 1), moved(i, -1)];
    const fPlus = objective(run, { ...inputs, [name]: { values: plus, shape } }, dy);
    const fMinus = objective(run, { ...inputs, [name]: { values: minus, shape } }, dy);
    out[i] = (fPlus - fMinus) / (plus[i] - minus[i]);
  }
  return out;
}

function assertClose(analytic: ArrayLike<number>, numeric: Float64Array, what: string): void {
  assert.equal(analytic.length, numeric.length, what);
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < numeric.length; i++) {
    const ratio = Math.abs(analytic[i] - numeric[i]) / (ATOL + RTOL * Math.abs(analytic[i]));
    if (!(ratio <= worstRatio)) [worst, worstRatio] = [i, ratio];
  }
  if (worst >= 0) {
    assert.fail(`${what}: worst element ${worst}: tf.grads ${analytic[worst]}, finite difference ${numeric[worst]} ` +
      `(|diff| ${Math.abs(analytic[worst] - numeric[worst]).toExponential(2)} > ${ATOL} + ${RTOL}*|tf.grads|)`);
  }
}

/** Every value of the kernel's linear pre-activation lies more than KINK_MARGIN from `kinks`. */
function assertAwayFromKinks(preActivation: tf.Tensor, kinks: number[], what: string): void {
  const v = preActivation.dataSync();
  for (const kink of kinks) {
    const gap = Math.min(...Array.from(v, (p) => Math.abs(p - kink)));
    assert.ok(gap > KINK_MARGIN, `${what}: a pre-activation lies ${gap} from the kink at ${kink}; pick other seeds`);
  }
}

const KINKS: Record<string, number[]> = { relu: [0], relu6: [0, 6], leakyrelu: [0], prelu: [0] };
const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;

/**
 * Finite differences of the fused kernel itself (run with runKernel, activation fused in) against tf.grads of the
 * fused op, for every input: x/filter or a/b, bias, and PReLU's alpha.
 */
function checkFused(kernel: string, inputs: Values, attrs: Record<string, unknown>,
  op: (t: Record<string, tf.Tensor>, activation: tf.fused.Activation) => tf.Tensor, activation: tf.fused.Activation): void {
  const used = activation === 'prelu' ? inputs : Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== 'alpha'));
  const runAs = (a: string) => (t: Record<string, tf.Tensor>) => tf.engine().runKernel(kernel,
    { ...t, preluActivationWeights: t.alpha }, { ...attrs, activation: a, leakyreluAlpha: 0.1 } as tf.NamedAttrMap) as tf.Tensor;
  const run = runAs(activation);
  tf.tidy(() => assertAwayFromKinks(runAs('linear')(tensors(used)), KINKS[activation] ?? [], `${kernel} ${activation}`));
  const yShape = tf.tidy(() => run(tensors(used)).shape);
  const dy = new Float32Array(random(yShape.reduce((a, b) => a * b, 1), -1, 1, 77));
  const wrt = Object.keys(used);
  const analytic = tf.tidy(() => {
    const t = tensors(used);
    const f = (...xs: tf.Tensor[]) => op({ ...t, ...Object.fromEntries(wrt.map((k, i) => [k, xs[i]])) }, activation);
    return tf.grads(f)(wrt.map((k) => t[k]), tf.tensor(dy, yShape)).map((g) => g.dataSync());
  });
  wrt.forEach((k, i) => assertClose(analytic[i], centralDifferences(run, used, dy, k, k === 'x'), `${kernel} ${activation}: d${k}`));
}

before(async () => {
  await tf.setBackend('torch');
  tf.env().set('IS_TEST', true);
});
after(() => tf.env().set('IS_TEST', false));

test('FusedConv2D with bias and each activation: finite differences of the kernel equal tf.grads', () => {
  const inputs: Values = {
    x: input([1, 4, 4, 2], -1, 1, 11), filter: input([2, 2, 2, 3], -1, 1, 12), bias: input([3], -0.5, 0.5, 13),
    alpha: input([3], 0.05, 0.5, 14),
  };
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
  for (const activation of ACTIVATIONS) {
    checkFused(tf.FusedConv2D, inputs, attrs, (t, a) => tf.fused.conv2d({
      x: t.x as tf.Tensor4D, filter: t.filter as tf.Tensor4D, strides: 1, pad: 'same', bias: t.bias, activation: a,
      preluActivationWeights: t.alpha, leakyreluAlpha: 0.1,
    }), activation);
  }
});

test('_FusedMatMul with bias and each activation, transposed operands: finite differences equal tf.grads', () => {
  const inputs: Values = {
    a: input([4, 3], -1, 1, 21), b: input([5, 4], -1, 1, 22), bias: input([5], -0.5, 0.5, 23),
    alpha: input([5], 0.05, 0.5, 24),
  };
  for (const activation of ACTIVATIONS) {
    checkFused(tf._FusedMatMul, inputs, { transposeA: true, transposeB: true }, (t, a) => tf.fused.matMul({
      a: t.a, b: t.b, transposeA: true, transposeB: true, bias: t.bias, activation: a, preluActivationWeights: t.alpha,
      leakyreluAlpha: 0.1,
    }), activation);
  }
});

test('TorchReluGrad: ReLU\'s gradient and the gradient of that gradient equal finite differences', () => {
  const x = input([4, 6], -2, 2, 31);
  assertAwayFromKinks(tf.tensor(x.values), [0], 'x');
  const dy = new Float32Array(random(24, -1, 1, 32));
  const spy = spyOnKernels([TorchReluGrad]);
  try {
    // d/dx Σ relu(x)·dy: tf.grads runs TorchReluGrad (the gradient this package registers for Relu).
    const analytic = tf.tidy(() => tf.grads((t: tf.Tensor) => tf.relu(t))([tf.tensor(x.values, x.shape)], tf.tensor(dy, x.shape))[0].dataSync());
    assert.ok(spy.ran.has(TorchReluGrad), 'tf.grads(relu) ran TorchReluGrad');
    assertClose(analytic, centralDifferences((t) => tf.relu(t.x), { x }, dy, 'x'), 'relu: dx');

    // The kernel's own gradient (second order): d/d(dy) Σ TorchReluGrad(dy, x)·ddy, and nothing for x.
    const dyIn = input([4, 6], -1, 1, 33);
    const ddy = new Float32Array(random(24, -1, 1, 34));
    const run = (t: Record<string, tf.Tensor>) => tf.engine().runKernel(TorchReluGrad, { dy: t.dy, x: t.x }) as tf.Tensor;
    const [dDy, dX] = tf.tidy(() => tf.grads((d: tf.Tensor, xx: tf.Tensor) => run({ dy: d, x: xx }))(
      [tf.tensor(dyIn.values, dyIn.shape), tf.tensor(x.values, x.shape)], tf.tensor(ddy, x.shape)).map((g) => g.dataSync()));
    assertClose(dDy, centralDifferences(run, { dy: dyIn, x }, ddy, 'dy'), 'TorchReluGrad: d(dy)');
    assertClose(dX, centralDifferences(run, { dy: dyIn, x }, ddy, 'x'), 'TorchReluGrad: dx');
    assert.ok(Array.from(dX).every((v) => v === 0), 'TorchReluGrad passes nothing to x');
  } finally {
    spy.restore();
  }
});

/** One Adam step as Kingma & Ba's Algorithm 1 writes it (or Keras's epsilon-hat form), in float64: [x', m', v', step]. */
function textbookAdam(x: number, g: number, m: number, v: number, s: { lr: number; b1: number; b2: number; eps: number;
  t: number; epsilonHat: boolean; decay: number }): [number, number, number, number] {
  const m1 = s.b1 * m + (1 - s.b1) * g;
  const v1 = s.b2 * v + (1 - s.b2) * g * g;
  const c1 = 1 - s.b1 ** s.t;
  const c2 = 1 - s.b2 ** s.t;
  const step = s.epsilonHat
    ? ((s.lr * Math.sqrt(c2)) / c1) * m1 / (Math.sqrt(v1) + s.eps)
    : (s.lr * (m1 / c1)) / (Math.sqrt(v1 / c2) + s.eps);
  return [s.decay * x - step, m1, v1, step];
}

test('FusedAdamUpdate: one step equals the textbook Adam formula in float64, both epsilon conventions, with decay', () => {
  const n = 200;
  // Gradients across scales, with exact zeros and a few large ones; v from 0 up, as after a few steps.
  const g0 = random(n, -1, 1, 41).map((g, i) => (i % 17 === 0 ? 0 : i % 23 === 0 ? g * 100 : g * 10 ** ((i % 5) - 3)));
  const x0 = random(n, -3, 3, 42);
  const m0 = random(n, -0.1, 0.1, 43);
  const v0 = random(n, 0, 0.01, 44).map((v, i) => (i % 13 === 0 ? 0 : v));
  for (const s of [
    { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-7, t: 1, epsilonHat: true, decay: 1 },
    { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, t: 10, epsilonHat: false, decay: 1 },
    { lr: 3e-4, b1: 0.8, b2: 0.99, eps: 1e-6, t: 1000, epsilonHat: true, decay: 1 - 3e-4 * 0.01 },
  ]) {
    const f32 = (a: number[]) => Array.from(new Float32Array(a));
    const [x, g, m, v] = [f32(x0), f32(g0), f32(m0), f32(v0)];
    const variable = tf.variable(tf.tensor(x));
    const mv = tf.variable(tf.tensor(m));
    const vv = tf.variable(tf.tensor(v));
    const gradient = tf.tensor(g);
    const spy = spyOnKernels([FusedAdamUpdate]);
    try {
      adamUpdate({ variable, gradient, m: mv, v: vv }, { learningRate: s.lr, beta1: s.b1, beta2: s.b2, epsilon: s.eps,
        epsilonConvention: s.epsilonHat ? 'epsilon-hat' : 'bias-corrected', step: s.t, decay: s.decay });
    } finally {
      spy.restore();
    }
    assert.ok(spy.ran.has(FusedAdamUpdate), 'adamUpdate ran the native FusedAdamUpdate');
    const got = [variable, mv, vv].map((t) => t.dataSync());
    for (let i = 0; i < n; i++) {
      const [x1, m1, v1, step] = textbookAdam(x[i], g[i], m[i], v[i], s);
      // float32 kernels: a few roundings of each term (8 float32 ulps of the terms' sizes), and ~1e-6 of the step.
      const ulp = 2 ** -24;
      const checks: Array<[string, number, number]> = [
        ['x\'', x1, 8 * ulp * Math.abs(x[i]) + 1e-6 * Math.abs(step)],
        ['m\'', m1, 8 * ulp * (Math.abs(m[i]) + Math.abs(g[i]))],
        ['v\'', v1, 8 * ulp * (v[i] + g[i] * g[i])],
      ];
      checks.forEach(([name, want, tolerance], k) => {
        assert.ok(Math.abs(got[k][i] - want) <= tolerance,
          `t=${s.t} ${s.epsilonHat ? 'epsilon-hat' : 'bias-corrected'}: ${name}[${i}] is ${got[k][i]}, textbook ${want} ` +
          `(g=${g[i]}, m=${m[i]}, v=${v[i]})`);
      });
    }
    tf.dispose([variable, mv, vv, gradient]);
  }
});
