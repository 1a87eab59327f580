// captureFunction (src/capture/): two eager runs per input signature are recorded; when they agree, later calls
// replay the ATen calls natively and give the eager results bit for bit. Runs that read data into JS or draw
// constants at random are never replayed; variables are read (and assigned) at every replay, so whole training steps
// replay.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';

import { adamUpdateWithTensors, bfloat16Support, captureFunction, setComputePrecision } from '../src/index';
import { requireBinding } from '../src/binding';

before(async () => {
  await tf.setBackend('torch');
});

/** A small CNN: conv (ReLU) → max pool → conv → flatten → dense (as the reference network, smaller). */
function smallCnn(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 2, kernelInitializer: init(2), biasInitializer: 'ones' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, kernelInitializer: init(3) }),
    ],
  });
}

const input = (batch: number, seed = 1) => tf.randomUniform([batch, 8, 8, 3], 0, 1, 'float32', seed);

/** Live tfjs tensors and native tensors, to check that a block leaves none behind. */
const live = () => ({ tfjs: tf.memory().numTensors, native: requireBinding().liveTensors() });

test('a CNN forward pass replays from the third call, equal to eager bit for bit, leaking nothing', () => {
  const model = smallCnn(0);
  const x = input(4);
  const predict = captureFunction((t: tf.Tensor) => model.apply(t, { training: false }) as tf.Tensor);
  const eager = model.apply(x, { training: false }) as tf.Tensor;
  const expected = eager.dataSync();
  const before = live();
  for (let call = 0; call < 5; call++) {
    const y = predict(x);
    assert.deepEqual(y.shape, [4, 5]);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(y.dataSync(), expected, `call ${call}`);
    y.dispose();
  }
  const stats = predict.stats();
  assert.deepEqual({ ...stats, refusals: stats.refusals.length }, { replays: 3, recordings: 2, eager: 0, programs: 1, refusals: 0 });
  predict.dispose();
  assert.deepEqual(live(), before);
  tf.dispose([x, eager]);
  model.dispose();
});

test('each input signature gets its own program; arrays of results come back as arrays', () => {
  const model = smallCnn(1);
  const f = captureFunction((t: tf.Tensor) => {
    const y = model.apply(t, { training: false }) as tf.Tensor;
    return [y, tf.softmax(y), tf.clone(t)];
  });
  for (const batch of [1, 3]) {
    const x = input(batch, batch);
    const eager = tf.tidy(() => {
      const y = model.apply(x, { training: false }) as tf.Tensor;
      return [y, tf.softmax(y)];
    });
    for (let call = 0; call < 3; call++) {
      const out = f(x);
      assert.equal(out.length, 3);
      assert.deepEqual(out[0].dataSync(), eager[0].dataSync());
      assert.deepEqual(out[1].dataSync(), eager[1].dataSync());
      assert.deepEqual(out[2].dataSync(), x.dataSync(), 'an input given back as a result');
      assert.notEqual(out[2], x, 'a tensor of its own on the input\'s data');
      tf.dispose(out);
      assert.equal(x.isDisposed, false);
    }
    tf.dispose([x, ...eager]);
  }
  assert.equal(f.stats().programs, 2);
  assert.equal(f.stats().replays, 2);
  f.dispose();
  model.dispose();
});

test('variables are read at every call: after an assignment the replays use the new weights, with no new recording', () => {
  const model = smallCnn(2);
  const x = input(2);
  const f = captureFunction((t: tf.Tensor) => model.apply(t, { training: false }) as tf.Tensor);
  for (let call = 0; call < 3; call++) f(x).dispose();
  assert.equal(f.stats().replays, 1);
  const [kernel, bias] = model.layers[4].getWeights();
  const doubled = tf.mul(kernel, 2);
  model.layers[4].setWeights([doubled, bias]);
  const expected = (model.apply(x, { training: false }) as tf.Tensor);
  for (let call = 0; call < 3; call++) {
    const y = f(x);
    assert.deepEqual(y.dataSync(), expected.dataSync(), `call ${call} after the assignment`);
    y.dispose();
  }
  assert.deepEqual([f.stats().recordings, f.stats().replays], [2, 4]);
  tf.dispose([x, expected, doubled]);
  f.dispose();
  model.dispose();
});

test('gradients are recorded and replayed like any other operators', () => {
  const model = smallCnn(3);
  const x = input(3);
  const inputGradient = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(model.apply(u, { training: false }) as tf.Tensor))(t);
  const f = captureFunction(inputGradient);
  const expected = inputGradient(x);
  for (let call = 0; call < 4; call++) {
    const g = f(x);
    assert.deepEqual(g.dataSync(), expected.dataSync(), `call ${call}`);
    g.dispose();
  }
  assert.equal(f.stats().replays, 2);
  tf.dispose([x, expected]);
  f.dispose();
  model.dispose();
});

/** A CNN with BatchNormalization, whose training calls assign its moving statistics. */
function cnnWithBatchNorm(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, kernelInitializer: init(1) }),
      tfl.layers.batchNormalization({ momentum: 0.9 }),
      tfl.layers.reLU(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, kernelInitializer: init(2) }),
    ],
  });
}

/**
 * One Adam training step of `model` on (x, one-hot y) with the bias-corrected step size given as a tensor: gradients,
 * then each weight's update (moments made on the first call). Returns the loss.
 */
function adamTrainingStep(model: tfl.LayersModel) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const moments: [tf.Variable, tf.Variable][] = [];
  return (x: tf.Tensor, y: tf.Tensor, alpha: tf.Tensor): tf.Tensor => {
    const { value, grads } = tf.variableGrads(() =>
      tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar, variables);
    variables.forEach((variable, i) => {
      moments[i] ??= [tf.variable(tf.zerosLike(variable), false), tf.variable(tf.zerosLike(variable), false)];
      adamUpdateWithTensors({ variable, gradient: grads[variable.name], m: moments[i][0], v: moments[i][1] },
        { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, alpha });
    });
    tf.dispose(Object.values(grads));
    return value;
  };
}

test('a whole training step (forward, gradients, Adam with its step size as input, BatchNorm statistics) replays: ' +
  'the weights follow the eager run bit for bit', () => {
  const [eagerModel, capturedModel] = [cnnWithBatchNorm(7), cnnWithBatchNorm(7)];
  const eagerStep = adamTrainingStep(eagerModel);
  const capturedStep = captureFunction(adamTrainingStep(capturedModel));
  const x = input(6, 3);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5), 'float32'));
  let before = live();
  for (let t = 1; t <= 6; t++) {
    const alpha = tf.scalar(0.01 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t));
    const [a, b] = [eagerStep(x, y, alpha), capturedStep(x, y, alpha)];
    assert.deepEqual(b.dataSync(), a.dataSync(), `loss at step ${t}`);
    tf.dispose([a, b, alpha]);
    if (t === 1) before = live();  // the first step made the moments
  }
  // The first call made the moments (not kept as a recording), the next two were recorded, the rest replayed.
  assert.deepEqual([capturedStep.stats().recordings, capturedStep.stats().replays], [3, 3]);
  const weights = (m: tfl.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));
  assert.deepEqual(weights(capturedModel), weights(eagerModel));  // moving mean and variance included
  const initial = cnnWithBatchNorm(7);
  assert.notDeepEqual(weights(capturedModel), weights(initial));
  initial.dispose();
  capturedStep.dispose();
  assert.deepEqual(live(), before);  // each replay's new values replaced the old ones
  tf.dispose([x, y]);
  eagerModel.dispose();
  capturedModel.dispose();
});

test('callAsync replays on the compute thread with the plain call\'s results; inputs and the program may be freed while it runs', async () => {
  const model = smallCnn(3);
  const predict = captureFunction((t: tf.Tensor) => model.apply(t, { training: false }) as tf.Tensor);
  const x = input(5, 2);
  const expected = tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
  const before = live();
  // The first two calls record (synchronously, as plain calls); the rest replay off the JS thread.
  for (let call = 0; call < 4; call++) {
    const y = await predict.callAsync(x);
    assert.deepEqual(y.shape, [5, 5]);
    assert.deepEqual(y.dataSync(), expected, `call ${call}`);
    y.dispose();
  }
  assert.deepEqual([predict.stats().recordings, predict.stats().replays], [2, 2]);
  // Several runs in flight at once; an input freed as soon as its run is queued, and the program freed mid-run.
  const copies = [0, 1, 2].map(() => x.clone());
  const runs = copies.map((c) => predict.callAsync(c));
  tf.dispose(copies);
  predict.dispose();
  for (const y of await Promise.all(runs)) {
    assert.deepEqual(y.dataSync(), expected);
    y.dispose();
  }
  assert.deepEqual([predict.stats().recordings, predict.stats().replays, predict.stats().programs], [2, 5, 0]);
  const after = live();
  assert.equal(after.tfjs, before.tfjs);
  // (The awaits let the garbage collector finalize handles of earlier tests, so native counts may only fall.)
  assert.ok(after.native <= before.native, `native tensors: ${before.native} before, ${after.native} after`);
  x.dispose();
  model.dispose();
});

test('programRunAsync: the JS thread turns while a run computes; a failing run rejects with the operator and the reason', async () => {
  const b = requireBinding();
  const mm = b.resolveOp('aten::mm', '');
  // x @ x @ ... (24 products of 384x384 matrices: tens of milliseconds on the compute thread)
  const steps = Array.from({ length: 24 }, (_, k) => ({ op: mm, args: [{ slot: k }, { slot: 0 }], keep: false, outs: [k + 1] }));
  const chain = b.programCreate({ numSlots: 25, inputs: [0], outputs: [24], constants: [], steps });
  const x = b.fromTypedArray(new Float32Array(384 * 384).fill(1 / 384), [384, 384], 6);
  let turns = 0;
  let done = false;
  const run = b.programRunAsync(chain, [x]).then((outs) => {
    done = true;
    return outs;
  });
  while (!done && turns < 1e6) {
    await new Promise((resolve) => setImmediate(resolve));
    turns++;
  }
  const [y] = await run;
  assert.ok(turns > 1, `the event loop turned ${turns} times while the run computed`);
  assert.deepEqual(b.shape(y), [384, 384]);
  b.dispose(y);
  const reshape = b.resolveOp('aten::reshape', '');
  const bad = b.programCreate({ numSlots: 2, inputs: [0], outputs: [1], constants: [],
    steps: [{ op: reshape, args: [{ slot: 0 }, [5, 5]], keep: false, outs: [1] }] });
  await assert.rejects(b.programRunAsync(bad, [x]), /^Error: tfjs-backend-torch: programRunAsync: aten::reshape failed: shape '\[5, 5\]' is invalid for input of size 147456\.$/);
  assert.throws(() => b.programRunAsync(bad, []), /programRunAsync takes 1 inputs; received 0/);
  b.programFree(bad);
  await assert.rejects(async () => b.programRunAsync(bad, [x]), /programRunAsync: the program was freed/);
  b.programFree(chain);
  b.dispose(x);
});

test('callAsync runs synchronously, inside tidy, what it cannot replay off the JS thread: a step that assigns variables', async () => {
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const step = captureFunction((t: tf.Tensor) => {
    v.assign(tf.add(v, t));
    return tf.sum(v);
  });
  const x = tf.tensor1d([1, 1, 1]);
  const tensors = tf.memory().numTensors;
  for (let call = 0; call < 4; call++) {
    const pending = step.callAsync(x);
    // Assigned before callAsync returned: the call ran on this thread.
    assert.deepEqual(Array.from(v.dataSync()), [2 + call, 3 + call, 4 + call]);
    tf.dispose(await pending);
  }
  assert.deepEqual([step.stats().recordings, step.stats().replays], [2, 2]);
  assert.equal(tf.memory().numTensors, tensors, 'the sum tf.add made was freed (callAsync tidies what runs here)');
  step.dispose();
  tf.dispose([x, v]);
});

test('a replay whose variable was disposed records again; data two variables share is refused', () => {
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const f = captureFunction((t: tf.Tensor) => tf.mul(t, v));
  const x = tf.tensor1d([2, 2, 2]);
  for (let call = 0; call < 3; call++) tf.dispose(f(x));
  v.dispose();  // its data lives on in the tensor it was made from
  const y = f(x);
  assert.deepEqual(Array.from(y.dataSync()), [2, 4, 6]);
  assert.deepEqual([f.stats().recordings, f.stats().replays, f.stats().programs], [3, 1, 0]);
  const shared = tf.tensor1d([4, 5, 6]);
  const [a, b] = [tf.variable(shared), tf.variable(shared)];
  const g = captureFunction((t: tf.Tensor) => tf.add(t, a));
  for (let call = 0; call < 3; call++) tf.dispose(g(x));
  assert.equal(g.stats().replays, 0);
  assert.match(g.stats().refusals[0], /several variables share/);
  tf.dispose([x, y, a, b, shared]);
  f.dispose();
  g.dispose();
});

test('called under a gradient tape, a captured function runs eagerly so that gradients flow through it', () => {
  const f = captureFunction((t: tf.Tensor) => tf.mul(tf.square(t), 3));
  const x = tf.tensor1d([1, -2, 0.5]);
  for (let call = 0; call < 3; call++) tf.dispose(f(x)); // recorded twice, then replayed
  const g = tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x);
  assert.deepEqual(Array.from(g.dataSync()), [6, -12, 3]);
  assert.deepEqual([f.stats().replays, f.stats().eager], [1, 1]);
  tf.dispose([x, g]);
  f.dispose();
});

test('a run that reads tensor data into JS, or makes constants of other values each time, stays eager', () => {
  const x = tf.tensor2d([[1, -2], [3, 4]]);
  const reads = captureFunction((t: tf.Tensor) => tf.mul(t, tf.max(t).dataSync()[0]));
  let draw = 0;
  const draws = captureFunction((t: tf.Tensor) => tf.add(t, tf.scalar(++draw)));
  for (let call = 0; call < 3; call++) {
    const a = reads(x);
    assert.deepEqual(Array.from(a.dataSync()), [4, -8, 12, 16]);
    const b = draws(x);
    assert.deepEqual(Array.from(b.dataSync()), [1, -2, 3, 4].map((v) => v + call + 1));
    tf.dispose([a, b]);
  }
  assert.equal(reads.stats().replays, 0);
  assert.match(reads.stats().refusals[0], /^float32\[2,2\]\|float32: it reads tensor data into JS \(a tensor read\)$/);
  assert.equal(draws.stats().replays, 0);
  assert.match(draws.stats().refusals[0], /two runs differ: a constant the function makes has other values in the second run/);
  x.dispose();
});

test('the same tensor given twice, a view or a variable as input gets a signature (or eager run) of its own', () => {
  const f = captureFunction((a: tf.Tensor, b: tf.Tensor) => tf.sub(tf.mul(a, 2), b));
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.tensor1d([10, 20, 30]);
  for (let call = 0; call < 3; call++) tf.dispose(f(x, x)); // one slot for both inputs: replayed from the third call
  const r = f(x, y); // two tensors: not the program above
  assert.deepEqual(Array.from(r.dataSync()), [-8, -16, -24]);
  const view = tf.reshape(tf.tensor2d([[1, 2, 3]]), [3]); // an alias of [1, 3] data
  for (let call = 0; call < 3; call++) {
    const v = f(view, x); // a program of its own, on the [1, 3] data, reshaped as the kernels did
    assert.deepEqual(Array.from(v.dataSync()), [1, 2, 3]);
    v.dispose();
  }
  const w = tf.variable(tf.tensor1d([5, 5, 5]));
  const g = captureFunction((a: tf.Tensor) => tf.add(a, w));
  const fromVariable = g(w);
  assert.deepEqual(Array.from(fromVariable.dataSync()), [10, 10, 10]);
  assert.equal(f.stats().replays, 2);  // (x, x) once, (view, x) once
  assert.equal(f.stats().programs, 2);
  assert.ok(f.stats().refusals.length === 0, f.stats().refusals.join('; '));
  assert.match(g.stats().refusals[0], /an input is the value of a variable/);
  tf.dispose([x, y, r, view, w, fromVariable]);
  f.dispose();
  g.dispose();
});

test('in bfloat16, an input stored in bfloat16 and a float32 one of the same shape get programs of their own',
  { skip: bfloat16Support().supported ? false : 'this CPU has no native bfloat16' }, () => {
    setComputePrecision('bfloat16');
    try {
      const f = captureFunction((a: tf.Tensor, b: tf.Tensor) => tf.relu(tf.add(a, b)));
      const image = tf.randomUniform([1, 4, 4, 2], -1, 1, 'float32', 3);
      const stored = tf.conv2d(image as tf.Tensor4D, tf.ones([1, 1, 2, 2]), 1, 'same'); // its result stays bfloat16
      const plain = tf.randomUniform([1, 4, 4, 2], -1, 1, 'float32', 4);
      const bias = tf.tensor1d([0.1 + 2 ** -12, -0.2]);
      for (const x of [stored, plain]) {
        const expected = tf.relu(tf.add(x, bias));
        for (let call = 0; call < 3; call++) {
          const y = f(x, bias);
          assert.deepEqual(y.dataSync(), expected.dataSync(), `call ${call}`);
          y.dispose();
        }
        expected.dispose();
      }
      assert.deepEqual([f.stats().programs, f.stats().replays], [2, 2]);
      tf.dispose([image, stored, plain, bias]);
      f.dispose();
    } finally {
      setComputePrecision('float32');
    }
  });

test('an error thrown while recording reaches the caller and leaves nothing behind', () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const w = tf.tensor2d([[1, 0], [0, 1]]);
  let fail = true;
  const f = captureFunction((t: tf.Tensor) => {
    const y = tf.matMul(t, w);
    if (fail) throw new Error('the function failed');
    return y;
  });
  tf.matMul(x, w).dispose(); // uploads x and w (their native tensors are theirs, not the recording's)
  const before = live();
  assert.throws(() => tf.tidy(() => f(x)), /^Error: the function failed$/);
  assert.deepEqual(live(), before);
  fail = false;
  for (let call = 0; call < 3; call++) {
    const y = f(x);
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    y.dispose();
  }
  assert.equal(f.stats().replays, 1);
  f.dispose();
  tf.dispose([x, w]);
});

test('constants made the same way each run are captured', () => {
  const x = tf.tensor1d([1, 2, 3]);
  const f = captureFunction((t: tf.Tensor) => tf.add(tf.mul(t, tf.scalar(2)), tf.tensor1d([0.5, 0.25, 0.125])));
  for (let call = 0; call < 4; call++) {
    const y = f(x);
    assert.deepEqual(Array.from(y.dataSync()), [2.5, 4.25, 6.125]);
    y.dispose();
  }
  assert.equal(f.stats().replays, 2);
  const other = tf.tensor1d([10, 20, 30]);
  const y = f(other); // same signature, new values: the program reads its input
  assert.deepEqual(Array.from(y.dataSync()), [20.5, 40.25, 60.125]);
  tf.dispose([x, other, y]);
  f.dispose();
});
