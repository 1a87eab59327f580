// Failures inside libtorch become JS Errors that name the kernel, the inputs and libtorch's message; the
// process survives them. Thread count: all cores by default, INSIGHT_TORCH_THREADS overrides.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { getNumThreads, setNumThreads } from '../src/index';
import { aten } from '../src/aten';
import { requireBinding } from '../src/binding';
import { defaultThreadCount } from '../src/threads';

test('a libtorch error becomes an Error naming the operator and libtorch message', () => {
  const b = requireBinding();
  const x = b.fromTypedArray(new Float32Array(6), [2, 3], 6);
  const y = b.fromTypedArray(new Float32Array(4), [4], 6);
  assert.throws(() => aten.add(x, y), /aten::add.Tensor failed: The size of tensor a \(3\) must match the size of tensor b \(4\)/);
  assert.throws(() => aten.add(x, 'nope'), /argument 'other' must be a tensor handle/);
  b.dispose(x);
  b.dispose(y);
  assert.throws(() => aten.neg(x), /already disposed/);
});

test('an integer argument must be a whole number in int64 range: never truncated or cast', () => {
  const b = requireBinding();
  const x = b.fromTypedArray(new Float32Array(6), [2, 3], 6);
  const rule = (received: string) => new RegExp(`^tfjs-backend-torch: aten::permute: argument 'dims' must be an ` +
    `integer \\(int64\\)\\. Received: ${received}\\. Pass a whole number: round it explicitly .* Schema: aten::permute\\(`);
  for (const [dims, received] of [
    [[1, 0.5], 'dims\\[1\\]=0\\.5'], [[NaN, 0], 'dims\\[0\\]=NaN'], [[Infinity, 0], 'dims\\[0\\]=Infinity'],
    [[2 ** 64, 0], 'dims\\[0\\]=18446744073709552000'], [['1', 0], 'dims\\[0\\]="1"'],
  ] as const) {
    assert.throws(() => aten.permute(x, dims as unknown as number[]), (e: Error) => e instanceof TypeError && rule(received).test(e.message));
  }
  // A scalar int argument names the argument itself.
  assert.throws(() => aten.cumsum(x, 1.5), /argument 'dim' must be an integer \(int64\)\. Received: dim=1\.5\./);
  const y = aten.permute(x, [1, 0]);  // whole numbers (and -0) still pass
  const z = aten.cumsum(x, -0);
  assert.deepEqual([b.shape(y), b.shape(z)], [[3, 2], [2, 3]]);
  for (const h of [x, y, z]) b.dispose(h);
});

test('a failing kernel names the tfjs kernel and its input shapes', async () => {
  await tf.setBackend('torch');
  const a = tf.ones([2, 3]);
  const b = tf.ones([4, 5]);
  assert.throws(() => tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }),
    /inner shapes \(3\) and \(4\)/);
  tf.dispose([a, b]);
});

test('an input whose data does not fill its shape is refused, naming the input (cpu would read NaN)', async () => {
  await tf.setBackend('torch');
  const a = tf.ones([2, 2]);
  const empty = (shape: number[], values: Float32Array) =>
    tf.engine().makeTensorFromDataId(tf.backend().write(values, shape, 'float32'), shape, 'float32');
  const residual = empty([1], new Float32Array(0));
  assert.throws(() => tf.add(a, residual), (e: Error) => e.message === 'tfjs-backend-torch: in kernel Add (inputs a: ' +
    'float32[2,2], b: float32[1]): input b holds no data: a tensor needs one value per element of its shape. Received: ' +
    'b=float32[1] with 0 values for 1 element. Fix: make the tensor from its values (tf.tensor(values, shape) checks ' +
    'the length); a tensor built from a dataId written with fewer values, or returned by a custom kernel without them, ' +
    'holds none. (tfjs\'s cpu backend reads such a tensor as NaN without an error.)');
  // Short data, a list input (tensors[i]) and an alias under another shape are named the same way.
  const short = empty([2, 3], new Float32Array(4));
  const aliased = tf.reshape(short, [3, 2]);
  assert.throws(() => tf.concat([a, aliased], 0),
    /input tensors\[1\] holds 4 values: .* Received: tensors\[1\]=float32\[3,2\] with 4 values for 6 elements\./);
  tf.dispose([a, residual, short, aliased]);
});

test('threads default to all cores and follow INSIGHT_TORCH_THREADS', () => {
  assert.equal(defaultThreadCount({}), os.availableParallelism());
  assert.equal(defaultThreadCount({ INSIGHT_TORCH_THREADS: '1' }), 1);
  assert.throws(() => defaultThreadCount({ INSIGHT_TORCH_THREADS: 'many' }),
    /INSIGHT_TORCH_THREADS must be a positive integer.*Received: INSIGHT_TORCH_THREADS="many"/);
  const before = getNumThreads();
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(before);
  assert.throws(() => setNumThreads(0), /Received: n=0/);
});

test('without the native addon, importing warns how to get libtorch and tfjs (and fusedAdam) runs on cpu', () => {
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    const torch = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.ts'))});
    tf.ready().then(() => {
      // fusedAdam runs its kernel's cpu reference: one step from zero moments moves w by lr * sign(g).
      const w = tf.variable(tf.tensor1d([1, 1]));
      torch.fusedAdam(0.1).applyGradients({ [w.name]: tf.tensor1d([2, -3]) });
      console.log(JSON.stringify({ available: torch.isAvailable, backend: tf.getBackend(),
        sum: tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0], adam: Array.from(w.dataSync(), (x) => +x.toFixed(5)) }));
    });`;
  const r = spawnSync(process.execPath, ['--conditions=source', '--require', 'tsx/cjs', '-e', script], {
    encoding: 'utf8', env: { ...process.env, INSIGHT_TORCH_ADDON: '/nonexistent/tfjs_torch.node' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /native addon could not be loaded/);
  assert.match(r.stderr, /apt-get install libtorch-dev/);
  assert.match(r.stderr, /LIBTORCH=/);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { available: false, backend: 'cpu', sum: 3, adam: [0.9, 1.1] });
});

test('the install step succeeds without libtorch and says how to get it', () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'build-addon.js')], {
    encoding: 'utf8', env: { ...process.env, LIBTORCH: '/nonexistent/libtorch' },
  });
  assert.equal(r.status, 0);
  assert.match(r.stderr, /libtorch was not found/);
  assert.match(r.stderr, /apt-get install libtorch-dev/);
});
