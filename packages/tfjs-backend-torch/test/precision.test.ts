// bfloat16 mixed precision (src/precision.ts): convolutions (forward and both gradients) and matrix products round
// their operands to bfloat16 and return float32 tensors; everything else, integer products and the float32 default
// stay exact; the setting refuses unknown names and CPUs without native bfloat16.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import { batchNormTraining, bfloat16Support, getComputePrecision, setComputePrecision } from '../src/index';
import { requireBinding } from '../src/binding';

const BF16 = bfloat16Support().supported;
const skip = BF16 ? false : 'this CPU has no native bfloat16';

afterEach(() => setComputePrecision('float32'));

/** 1 + 2^-10: exact in float32, 1 in bfloat16 (8 significant bits). */
const ONE_PLUS = 1 + 2 ** -10;

/** Runs f in each precision and returns both results' values. */
async function both(f: () => tf.Tensor): Promise<{ fp32: Float32Array; bf16: Float32Array; dtype: string }> {
  await tf.setBackend('torch');
  setComputePrecision('float32');
  const a = tf.tidy(f);
  setComputePrecision('bfloat16');
  const b = tf.tidy(f);
  setComputePrecision('float32');
  const out = { fp32: a.dataSync() as Float32Array, bf16: b.dataSync() as Float32Array, dtype: b.dtype };
  tf.dispose([a, b]);
  return out;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
  return worst;
}

test('the default is float32; unknown names are refused and change nothing', () => {
  assert.equal(getComputePrecision(), 'float32');
  assert.throws(() => setComputePrecision('half' as 'float32'),
    /The compute precision must be one of float32, bfloat16\. Received: precision="half"\. Use 'float32'/);
  assert.equal(getComputePrecision(), 'float32');
});

test('bfloat16Support reads the CPU flags', () => {
  assert.deepEqual(bfloat16Support('processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 avx512_vnni\n'),
    { supported: true, reason: 'the CPU has avx512_bf16' });
  assert.deepEqual(bfloat16Support('flags\t\t: fpu sse avx2 amx_bf16 amx_tile\n'), { supported: true, reason: 'the CPU has amx_bf16' });
  const without = bfloat16Support('flags\t\t: fpu sse avx2 fma\n');
  assert.equal(without.supported, false);
  assert.equal(without.reason, 'the CPU has neither avx512_bf16 nor amx_bf16 (its flags in /proc/cpuinfo)');
});

test('a convolution rounds its operands to bfloat16 and returns float32', { skip }, async () => {
  // 1x1 convolution of 1 + 2^-10 by 1: float32 keeps the 2^-10, bfloat16 rounds it away.
  const r = await both(() => tf.conv2d(tf.fill([1, 2, 2, 1], ONE_PLUS) as tf.Tensor4D, tf.ones([1, 1, 1, 1]) as tf.Tensor4D, 1, 'valid'));
  assert.equal(r.dtype, 'float32');
  assert.deepEqual([...r.fp32], [ONE_PLUS, ONE_PLUS, ONE_PLUS, ONE_PLUS]);
  assert.deepEqual([...r.bf16], [1, 1, 1, 1]);
});

test('both convolution gradients and the fused convolution compute in bfloat16', { skip }, async () => {
  const x = tf.fill([1, 3, 3, 1], ONE_PLUS) as tf.Tensor4D;
  const w = tf.fill([2, 2, 1, 1], ONE_PLUS) as tf.Tensor4D;
  const dx = await both(() => tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(v as tf.Tensor4D, w, 1, 'valid')))(x));
  const dw = await both(() => tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(x, v as tf.Tensor4D, 1, 'valid')))(w));
  // dx at the centre pixel: the sum of the 4 weights; dw: the sum of 4 input pixels. bfloat16 sees ones.
  assert.ok(Math.abs(dx.fp32[4] - 4 * ONE_PLUS) < 1e-6, `fp32 dx ${dx.fp32[4]}`);
  assert.equal(dx.bf16[4], 4);
  assert.deepEqual([...dw.fp32].map((v) => Math.abs(v - 4 * ONE_PLUS) < 1e-6), [true, true, true, true]);
  assert.deepEqual([...dw.bf16], [4, 4, 4, 4]);
  const fused = await both(() => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias: tf.fill([1], ONE_PLUS), activation: 'relu' }));
  assert.deepEqual([...fused.bf16], [5, 5, 5, 5]);
  assert.ok(Math.abs(fused.fp32[0] - (4 * ONE_PLUS * ONE_PLUS + ONE_PLUS)) < 1e-6);
  tf.dispose([x, w]);
});

test('float32 matrix products compute in bfloat16, integer ones stay exact', { skip }, async () => {
  const small = await both(() => tf.matMul(tf.fill([2, 3], ONE_PLUS) as tf.Tensor2D, tf.ones([3, 2]) as tf.Tensor2D));
  assert.deepEqual([...small.bf16], [3, 3, 3, 3]);
  assert.ok(Math.abs(small.fp32[0] - 3 * ONE_PLUS) < 1e-6);
  // 64x96 by 96x16 (the 1x1-convolution path, over 65,536 multiply-adds), transposed operands and a bias; 96.5 is a
  // bfloat16 number (the result is rounded to bfloat16 before it is widened).
  const big = await both(() => tf.fused.matMul({ a: tf.fill([96, 64], ONE_PLUS) as tf.Tensor2D, b: tf.ones([16, 96]) as tf.Tensor2D,
    transposeA: true, transposeB: true, bias: tf.fill([16], 0.5) }));
  assert.equal(big.bf16.length, 64 * 16);
  assert.ok(big.bf16.every((v) => v === 96.5), `bf16 ${big.bf16[0]}`);
  assert.ok(Math.abs(big.fp32[0] - (96 * ONE_PLUS + 0.5)) < 1e-4, `fp32 ${big.fp32[0]}`);
  // 257 is not a bfloat16 number (8 significant bits): an integer product must still give it.
  const counts = await both(() => tf.matMul(tf.ones([1, 257], 'int32') as tf.Tensor2D, tf.ones([257, 1], 'int32') as tf.Tensor2D));
  assert.deepEqual([...counts.bf16], [257]);
});

test('on random data bfloat16 results stay within bfloat16 rounding of float32, and no tensor leaks', { skip }, async () => {
  await tf.setBackend('torch');
  const binding = requireBinding();
  const x = tf.randomUniform([8, 15, 15, 32], -1, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 32, 64], -0.2, 0.2, 'float32', 2) as tf.Tensor4D;
  const gradients = () => {
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
    return tf.concat([tf.reshape(gx, [-1]), tf.reshape(gw, [-1])]);
  };
  await both(gradients);  // the backend's cached scalar constants are made once
  const live = binding.liveTensors();
  const conv = await both(() => tf.conv2d(x, w, 1, 'same'));
  const grads = await both(gradients);
  assert.equal(binding.liveTensors(), live);
  for (const [name, r] of [['conv', conv], ['gradients', grads]] as const) {
    const error = maxRelativeError(r.bf16, r.fp32);
    // bfloat16 keeps 8 significant bits (relative rounding 2^-9 per operand); sums of 288 products stay well below 2%.
    assert.ok(error > 0 && error < 0.02, `${name}: max error ${error} relative to the largest value`);
  }
  tf.dispose([x, w]);
});

test('back in float32 the results are the float32 ones bit for bit', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.randomUniform([4, 9, 9, 8], -1, 1, 'float32', 3) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 8, 8], -1, 1, 'float32', 4) as tf.Tensor4D;
  const before = tf.conv2d(x, w, 1, 'same').dataSync();
  setComputePrecision('bfloat16');
  tf.conv2d(x, w, 1, 'same').dispose();
  setComputePrecision('float32');
  assert.deepEqual(tf.conv2d(x, w, 1, 'same').dataSync(), before);
});

/** The backend's storage of a tensor: true when its float32 values are kept in bfloat16. */
function storedInBfloat16(t: tf.Tensor): boolean {
  return (tf.backend() as unknown as { isBfloat16(info: tf.TensorInfo): boolean }).isBfloat16(t);
}

/** conv → per-channel bias → ReLU → max pool → conv, the tfjs-layers training path (the bias add unfused). */
function convChain(x: tf.Tensor4D, w1: tf.Tensor4D, b1: tf.Tensor1D, w2: tf.Tensor4D): tf.Tensor4D[] {
  const a = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'valid'), tf.reshape(b1, [1, 1, 1, -1]))) as tf.Tensor4D;
  const p = tf.maxPool(a, 2, 2, 'valid');
  return [a, p, tf.conv2d(p, w2, 1, 'valid')];
}

test('activations stay bfloat16 from one convolution to the next, and read as float32', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const w1 = tf.randomUniform([3, 3, 3, 8], -0.5, 0.5, 'float32', 6) as tf.Tensor4D;
  const b1 = tf.randomUniform([8], -0.1, 0.1, 'float32', 7) as tf.Tensor1D;
  const w2 = tf.randomUniform([3, 3, 8, 4], -0.5, 0.5, 'float32', 8) as tf.Tensor4D;
  const fp32 = convChain(x, w1, b1, w2);
  setComputePrecision('bfloat16');
  const bf16 = convChain(x, w1, b1, w2);
  assert.deepEqual(bf16.map(storedInBfloat16), [true, true, true]);
  assert.deepEqual(fp32.map(storedInBfloat16), [false, false, false]);
  // A float32 operand of another shape makes the sum float32 (as autocast promotes it).
  const mixed = tf.add(bf16[0], tf.onesLike(bf16[0]));
  assert.equal(storedInBfloat16(mixed), false);
  for (let i = 0; i < 3; i++) {
    assert.equal(bf16[i].dtype, 'float32');
    const error = maxRelativeError(bf16[i].dataSync() as Float32Array, fp32[i].dataSync() as Float32Array);
    assert.ok(error > 0 && error < 0.02, `stage ${i}: max error ${error}`);
  }
  assert.deepEqual(mixed.dataSync(), tf.add(bf16[0].dataSync() as Float32Array, 1).dataSync());
  // Back in float32, a kept activation is widened for every kernel: its ReLU, bias add and pooling are float32.
  setComputePrecision('float32');
  const again = [tf.relu(bf16[2]), tf.add(bf16[2], tf.ones([4])), tf.maxPool(bf16[0], 2, 2, 'valid')];
  const widened = [bf16[2], bf16[2], bf16[0]].map((t) => tf.tensor(t.dataSync(), t.shape) as tf.Tensor4D);
  const expected = [tf.relu(widened[0]), tf.add(widened[1], tf.ones([4])), tf.maxPool(widened[2], 2, 2, 'valid')];
  assert.deepEqual(again.map(storedInBfloat16), [false, false, false]);
  again.forEach((t, i) => assert.deepEqual(t.dataSync(), expected[i].dataSync()));
  tf.dispose([x, w1, b1, w2, ...fp32, ...bf16, mixed, ...again, ...widened, ...expected]);
});

test('gradients through kept bfloat16 activations match float32 within rounding, weights\' in float32', { skip }, async () => {
  await tf.setBackend('torch');
  const binding = requireBinding();
  const x = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const w1 = tf.randomUniform([3, 3, 3, 8], -0.5, 0.5, 'float32', 10) as tf.Tensor4D;
  const b1 = tf.randomUniform([8], -0.1, 0.1, 'float32', 11) as tf.Tensor1D;
  const w2 = tf.randomUniform([3, 3, 8, 4], -0.5, 0.5, 'float32', 12) as tf.Tensor4D;
  const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.square(convChain(x, a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor4D)[2]));
  const grads = () => tf.grads(loss)([w1, b1, w2]);
  tf.dispose(grads());  // the backend's cached scalar constants are made once
  const live = binding.liveTensors();
  const fp32 = grads();
  setComputePrecision('bfloat16');
  const bf16 = grads();
  setComputePrecision('float32');
  assert.deepEqual(bf16.map(storedInBfloat16), [false, false, false]);
  bf16.forEach((g, i) => {
    const error = maxRelativeError(g.dataSync() as Float32Array, fp32[i].dataSync() as Float32Array);
    assert.ok(error > 0 && error < 0.03, `gradient ${i}: max error ${error}`);
  });
  tf.dispose([...fp32, ...bf16]);
  assert.equal(binding.liveTensors(), live);
  tf.dispose([x, w1, b1, w2]);
});

test('training-mode BatchNorm keeps a bfloat16 activation bfloat16, with float32 statistics and parameter gradients', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 3, 6], -0.5, 0.5, 'float32', 14) as tf.Tensor4D;
  const gamma = tf.randomUniform([6], 0.5, 1.5, 'float32', 15);
  const beta = tf.randomUniform([6], -0.5, 0.5, 'float32', 16);
  const run = () => {
    const bn = batchNormTraining(tf.conv2d(x, w, 1, 'same'), gamma, beta, 1e-3);
    return { bn, stored: [bn.y, bn.mean, bn.variance].map(storedInBfloat16) };
  };
  const fp32 = run();
  setComputePrecision('bfloat16');
  const bf16 = run();
  const loss = (g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.relu(batchNormTraining(tf.conv2d(x, w, 1, 'same'), g, b, 1e-3).y)));
  const grads16 = tf.grads(loss)([gamma, beta]);
  setComputePrecision('float32');
  const grads32 = tf.grads(loss)([gamma, beta]);
  assert.deepEqual(bf16.stored, [true, false, false]);
  assert.deepEqual(fp32.stored, [false, false, false]);
  assert.deepEqual(grads16.map(storedInBfloat16), [false, false]);
  const pairs: [string, tf.Tensor, tf.Tensor][] = [['y', bf16.bn.y, fp32.bn.y], ['mean', bf16.bn.mean, fp32.bn.mean],
    ['variance', bf16.bn.variance, fp32.bn.variance], ['dgamma', grads16[0], grads32[0]], ['dbeta', grads16[1], grads32[1]]];
  for (const [name, a, b] of pairs) {
    const error = maxRelativeError(a.dataSync() as Float32Array, b.dataSync() as Float32Array);
    assert.ok(error < 0.03, `${name}: max error ${error}`);
  }
});
