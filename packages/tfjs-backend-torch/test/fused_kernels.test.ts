// This package's own kernels (FusedAdamUpdate, TorchReluGrad): the native `torch` kernel against the `cpu`
// reference kernel on the same inputs (1e-6 relative, 1e-7 absolute), the cpu TorchReluGrad against tfjs-core's
// Relu gradient bit for bit, and adamUpdate's folding of both epsilon conventions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import {
  adamUpdate, adamUpdateAttrs, FusedAdamUpdate, type FusedAdamUpdateAttrs, nativeKernelNames, TorchReluGrad,
} from '../src/index';
import { random } from './random_inputs';

/** Runs `kernel` on `backend` with fresh inputs; returns each output's values. */
async function runOn(backend: string, kernel: string, inputs: () => Record<string, tf.Tensor>,
  attrs: Record<string, unknown> = {}): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = tf.engine().runKernel(kernel, inputs(), attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = Math.max(1e-7, 1e-6 * Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}[${i}]: torch ${actual[i]} vs cpu ${expected[i]}`);
  }
}

test('both kernels are native on torch and registered on cpu', () => {
  for (const kernel of [FusedAdamUpdate, TorchReluGrad]) {
    assert.ok(nativeKernelNames.has(kernel), kernel);
    assert.ok(tf.getKernel(kernel, 'cpu') !== undefined, kernel);
  }
});

test('FusedAdamUpdate: torch matches the cpu reference, with and without decay', async () => {
  const shape = [3, 5, 7];
  const n = 105;
  const inputs = () => ({
    variable: tf.tensor(random(n, -3, 3, 1), shape),
    gradient: tf.tensor([...random(n - 3, -2, 2, 2), 0, 1e-12, -50], shape),
    m: tf.tensor(random(n, -0.5, 0.5, 3), shape),
    v: tf.tensor(random(n, 0, 0.3, 4), shape),
  });
  for (const attrs of [
    { beta1: 0.9, beta2: 0.999, alpha: 0.01, epsilon: 1e-7, decay: 1 },
    { beta1: 0.5, beta2: 0.9, alpha: 0.3, epsilon: 1e-3, decay: 0.99 },
  ] satisfies FusedAdamUpdateAttrs[]) {
    const torch = await runOn('torch', FusedAdamUpdate, inputs, attrs as unknown as Record<string, unknown>);
    const cpu = await runOn('cpu', FusedAdamUpdate, inputs, attrs as unknown as Record<string, unknown>);
    ['x', 'm', 'v'].forEach((name, k) => assertClose(torch[k], cpu[k], `${name}' (decay ${attrs.decay})`));
  }
  await tf.setBackend('torch');
});

test('FusedAdamUpdate with alpha and decay as tensors: torch matches cpu, and both match the attribute form', async () => {
  const shape = [4, 6];
  const inputs = (withDecay: boolean) => () => ({
    variable: tf.tensor(random(24, -3, 3, 11), shape),
    gradient: tf.tensor(random(24, -2, 2, 12), shape),
    m: tf.tensor(random(24, -0.5, 0.5, 13), shape),
    v: tf.tensor(random(24, 0, 0.3, 14), shape),
    alpha: tf.scalar(0.03),
    ...(withDecay ? { decay: tf.scalar(0.995) } : {}),
  });
  for (const withDecay of [false, true]) {
    const constants = { beta1: 0.8, beta2: 0.99, epsilon: 1e-6, alpha: 123, decay: 7 };  // alpha and decay unused
    const torch = await runOn('torch', FusedAdamUpdate, inputs(withDecay), constants);
    const cpu = await runOn('cpu', FusedAdamUpdate, inputs(withDecay), constants);
    const byAttrs = await runOn('cpu', FusedAdamUpdate, () => {
      const { alpha, decay, ...rest } = inputs(withDecay)();
      tf.dispose([alpha, decay ?? []]);
      return rest;
    }, { ...constants, alpha: Math.fround(0.03), decay: withDecay ? Math.fround(0.995) : 1 });
    ['x', 'm', 'v'].forEach((name, k) => {
      assertClose(torch[k], cpu[k], `${name}' (tensor decay ${withDecay})`);
      assert.deepEqual(cpu[k], byAttrs[k], `${name}' tensors against attributes (decay ${withDecay})`);
    });
  }
  await tf.setBackend('torch');
});

test('TorchReluGrad: torch matches the cpu reference for float32 and int32 x', async () => {
  const xs = [...random(20, -2, 2, 5), 0, -0, 1e-30, -1e-30];
  for (const dtype of ['float32', 'int32'] as const) {
    const inputs = () => ({ dy: tf.tensor(random(24, -1, 1, 6), [4, 6]), x: tf.tensor(xs.map((x) => dtype === 'int32' ? Math.round(x) : x), [4, 6], dtype) });
    const [torch] = await runOn('torch', TorchReluGrad, inputs);
    const [cpu] = await runOn('cpu', TorchReluGrad, inputs);
    assertClose(torch, cpu, `dx (${dtype} x)`);
  }
  await tf.setBackend('torch');
});

test('TorchReluGrad on cpu is tfjs-core\'s Relu gradient bit for bit, NaN and -0 included', async () => {
  await tf.setBackend('cpu');
  const dy = tf.tensor([0.5, -0.25, 3, -2, 1, -1, 7], [7]);
  const x = tf.tensor([1, 2, -1, -3, 0, NaN, -0], [7]);
  const fused = tf.engine().runKernel(TorchReluGrad, { dy, x }) as tf.Tensor;
  const formula = tf.mul(dy, tf.cast(tf.step(x), 'float32'));
  assert.deepEqual(Array.from(fused.dataSync()), Array.from(formula.dataSync()));
  assert.ok(Object.is(fused.dataSync()[3], -0));  // -2 * 0
  tf.dispose([dy, x, fused, formula]);
  await tf.setBackend('torch');
});

test('adamUpdateAttrs folds the bias correction and places epsilon per convention', () => {
  const s = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 };
  const c1 = 1 - 0.9 ** 3;
  const c2 = 1 - 0.999 ** 3;
  const keras = adamUpdateAttrs({ ...s, epsilonConvention: 'epsilon-hat' });
  const tfjs = adamUpdateAttrs({ ...s, epsilonConvention: 'bias-corrected', decay: 0.5 });
  assert.deepEqual(keras, { beta1: 0.9, beta2: 0.999, alpha: (0.1 * Math.sqrt(c2)) / c1, epsilon: 1e-7, decay: 1 });
  assert.deepEqual(tfjs, { ...keras, epsilon: 1e-7 * Math.sqrt(c2), decay: 0.5 });
  assert.throws(() => adamUpdateAttrs({ ...s, epsilonConvention: 'epsilon-hat', step: 0 }),
    /The Adam step number is 1-based: it must be an integer >= 1\. Received: step=0\. Pass the optimizer's iterations \+ 1\./);
});

test('adamUpdate: one bias-corrected step equals the paper\'s Algorithm 1, on torch and on cpu', async () => {
  for (const backend of ['torch', 'cpu']) {
    await tf.setBackend(backend);
    const variable = tf.variable(tf.tensor([1, -2, 0.5]));
    const m = tf.variable(tf.tensor([0.1, 0.2, -0.3]));
    const v = tf.variable(tf.tensor([0.01, 0.04, 0.09]));
    const gradient = tf.tensor([0.5, -1, 0.25]);
    const before = tf.memory().numTensors;
    adamUpdate({ variable, gradient, m, v },
      { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-3, epsilonConvention: 'bias-corrected', step: 2 });
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensor leaks`);
    const [x0, m0, v0, g] = [[1, -2, 0.5], [0.1, 0.2, -0.3], [0.01, 0.04, 0.09], [0.5, -1, 0.25]];
    const expected = x0.map((x, i) => {
      const m1 = 0.9 * m0[i] + 0.1 * g[i];
      const v1 = 0.999 * v0[i] + 0.001 * g[i] * g[i];
      return x - (0.01 * (m1 / (1 - 0.9 ** 2))) / (Math.sqrt(v1 / (1 - 0.999 ** 2)) + 1e-3);
    });
    assertClose(variable.dataSync() as Float32Array, new Float32Array(expected), `${backend} x'`);
    tf.dispose([variable, m, v, gradient]);
  }
  await tf.setBackend('torch');
});
