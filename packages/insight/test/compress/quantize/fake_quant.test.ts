// Fake quantisation against hand-computed values: the uint8 grid of an activation range, per-channel symmetric int8
// kernels (ties to even, an all-zero channel), the straight-through gradient inside and outside the range; and a
// model's layers fake-quantised where the int8 graph rounds, with moving-average ranges.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import { TorchBatchNormTraining } from '@insight/tfjs-backend-torch';

import { initBackend, tf } from '../../../src/backend';
import { FakeQuantization, fakeQuantize, fakeQuantizePerChannel } from '../../../src/compress/quantize';
import { InsightError } from '../../../src/errors';
import { createModel } from '../../../src/models';
import { graphSteps } from '../../../src/models/graph';
import { spyOnKernels } from '../../../../tfjs-backend-torch/test/kernel_spy';

before(async () => {
  await initBackend();
});

const f32 = (values: number[]) => Array.from(Float32Array.from(values));

describe('fakeQuantize (per tensor, uint8)', () => {
  // range [-1, 1]: s = fround(2/255), z = round(127.5) = 128; the grid spans [-128 s, 127 s] = [-1.0039216, 0.9960785]
  const s = Math.fround(2 / 255);

  it('rounds to the grid (x / s to even) and saturates at its ends', async () => {
    const x = tf.tensor1d([-2, -1, 0, 0.5, 0.99, 1, 3]);
    const y = fakeQuantize(x, { min: -1, max: 1 });
    const q = [0, 1, 128, 192, 254, 255, 255]; // round(x / s) + 128, clipped; -1 / s = -127.49999 in float32 → -127
    const expected = q.map((v) => Math.fround(Math.fround(v - 128) * s));
    assert.deepEqual(Array.from(await y.data()), f32(expected));
    tf.dispose([x, y]);
  });

  it('a non-negative range keeps 0 exact and uses all 256 levels', async () => {
    const y = fakeQuantize(tf.tensor1d([0, 2.55, 1.004, 9]), { min: 0, max: 2.55 });
    const step = Math.fround(2.55 / 255);
    assert.deepEqual(Array.from(await y.data()), f32([0, Math.fround(255 * step), Math.fround(100 * step), Math.fround(255 * step)]));
    y.dispose();
  });

  it('passes the gradient inside the grid span and none outside (straight-through)', async () => {
    const x = tf.tensor1d([-2, -1.0039, -1, 0.5, 0.99, 0.9961, 1, 3]);
    const weights = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fakeQuantize(v, { min: -1, max: 1 }), weights)))(x);
    assert.deepEqual(Array.from(await dx.data()), [0, 2, 3, 4, 5, 0, 0, 0]);
    tf.dispose([x, weights, dx]);
  });
});

describe('fakeQuantizePerChannel (symmetric int8, per output channel)', () => {
  // A Dense kernel [3 inputs, 4 channels]. Scales max|w_c| / 127: 1/64, (all zero → 1), 1/128, 0.5/127.
  const kernel = [
    [0.3, 0, 0.01, 0.5],
    [-1.984375, 0, -0.02734375, -0.1],
    [0.5078125, 0, 0.9921875, 0.25],
  ];

  it('rounds each channel to its own scale, ties to even, an all-zero channel stays zero', async () => {
    const w = tf.tensor2d(kernel);
    const y = fakeQuantizePerChannel(w);
    const s3 = Math.fround(0.5 / 127);
    const q3 = (v: number) => Math.fround(Math.round(Math.fround(v / s3)) * s3);
    const expected = [
      [19 / 64, 0, 1 / 128, q3(0.5)], // 0.3·64 = 19.2 → 19; 0.01·128 = 1.28 → 1
      [-127 / 64, 0, -4 / 128, q3(-0.1)], // -0.02734375·128 = -3.5 → -4 (even)
      [32 / 64, 0, 127 / 128, q3(0.25)], // 0.5078125·64 = 32.5 → 32 (even)
    ];
    assert.deepEqual((await y.array()) as number[][], expected.map(f32));
    assert.equal(q3(0.5), 0.5, 'the largest weight of a channel is kept exactly (q = 127)');
    tf.dispose([w, y]);
  });

  it('quantises a Conv2D kernel [kh, kw, in, out] per out channel, with the gradient passing everywhere', async () => {
    const w = tf.tensor4d([1, -0.5, 0.25, 2, -4, 0.1, 3, 1], [1, 2, 2, 2]); // channel 0: 1, 0.25, -4, 3; channel 1: -0.5, 2, 0.1, 1
    const y = fakeQuantizePerChannel(w);
    const [s0, s1] = [Math.fround(4 / 127), Math.fround(2 / 127)];
    const q = (v: number, s: number) => Math.fround(Math.round(Math.fround(v / s)) * s);
    assert.deepEqual(Array.from(await y.data()), [q(1, s0), q(-0.5, s1), q(0.25, s0), 2, -4, q(0.1, s1), q(3, s0), q(1, s1)]);
    const dw = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fakeQuantizePerChannel(v), tf.reshape(tf.range(1, 9), [1, 2, 2, 2]))))(w);
    assert.deepEqual(Array.from(await dw.data()), [1, 2, 3, 4, 5, 6, 7, 8]);
    tf.dispose([w, y, dw]);
  });
});

describe('FakeQuantization on a model', () => {
  // x [n, 4] → dense1 (linear) → relu (ReLU layer) → dropout → logits (Dense 3)
  const build = () => tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [4], units: 6, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones', name: 'dense1' }),
      tfl.layers.reLU({ name: 'relu' }),
      tfl.layers.dropout({ rate: 0.5, name: 'drop' }),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), name: 'logits' }),
    ],
  });
  const ranges = { input: { min: -2, max: 2 }, layers: { dense1: { min: -3, max: 3 }, relu: { min: 0, max: 2.5 }, drop: { min: 0, max: 2.5 }, logits: { min: -4, max: 4 } } };

  it('rounds where the int8 graph does: the input, kernels per channel, the ReLU (dense1 folds into it), the logits', async () => {
    const model = build();
    const x = tf.tensor2d([[0.3, -1.7, 2.5, 0.01], [-0.4, 0.8, -3, 1.2]]);
    const [d1, d2] = [model.getLayer('dense1'), model.getLayer('logits')];
    const expected = tf.tidy(() => {
      const h = tf.relu(tf.add(tf.matMul(fakeQuantize(x, ranges.input), fakeQuantizePerChannel(d1.getWeights()[0])), d1.getWeights()[1]));
      const y = tf.add(tf.matMul(fakeQuantize(h, ranges.layers.relu), fakeQuantizePerChannel(d2.getWeights()[0])), d2.getWeights()[1]);
      return fakeQuantize(y, ranges.layers.logits);
    });
    const fq = FakeQuantization.attach(model, ranges);
    const y = model.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(await y.data()), Array.from(await expected.data()));
    const { layers: { logits: _logits, ...rest } } = ranges;
    await fq.detach();
    const floatOutput = FakeQuantization.attach(model, { input: ranges.input, layers: rest });
    const z = model.predict(x) as tf.Tensor;
    assert.notDeepEqual(Array.from(await z.data()), Array.from(await y.data()), 'without a range the logits stay float');
    await floatOutput.detach();
    tf.dispose([x, y, z, expected]);
    model.dispose();
  });

  it('a ResNet\'s BatchNorm trains on the fused kernels under fake quantisation, and gets its own call back after', async () => {
    const model = createModel('resnet', { inputShape: [8, 8, 3], numClasses: 4, seed: 2 });
    const names = graphSteps(model).map((s) => s.layer.name);
    const wide = { min: -8, max: 8 };
    const fq = FakeQuantization.attach(model, { input: { min: -3, max: 3 }, layers: Object.fromEntries(names.map((n) => [n, wide])) });
    const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 4);
    const spy = spyOnKernels([TorchBatchNormTraining], tf.getBackend());
    try {
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    } finally {
      spy.restore();
    }
    assert.equal(spy.calls.get(TorchBatchNormTraining), norms.length);
    await fq.detach();
    for (const norm of norms) {
      assert.equal((norm as unknown as { call: unknown }).call, (Object.getPrototypeOf(norm) as { call: unknown }).call);
    }
    x.dispose();
    model.dispose();
  });

  it('moves the ranges by the moving average of training batches (decay 0.5 here), only in training', async () => {
    const model = build();
    const fq = FakeQuantization.attach(model, ranges, { emaDecay: 0.5 });
    const x = tf.tensor2d([[1, 1, 1, 1], [-1, 2, 0, 0.5]]);
    tf.dispose(model.apply(x, { training: false }) as tf.Tensor);
    await fq.callback.onBatchEnd?.({} as never, {} as never);
    assert.deepEqual(fq.current(), ranges, 'inference passes leave the ranges');
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    await fq.callback.onBatchEnd?.({} as never, {} as never);
    const now = fq.current();
    assert.deepEqual(now.input, { min: Math.fround(0.5 * -2 + 0.5 * -1), max: Math.fround(0.5 * 2 + 0.5 * 2) });
    assert.deepEqual(now.layers.dense1, ranges.layers.dense1, 'dense1 is not quantised (the ReLU after it is)');
    assert.ok(now.layers.relu.max !== 2.5 && now.layers.relu.min === 0);
    assert.deepEqual(fq.callback.getState?.(), now);
    assert.deepEqual(await fq.detach(), now);
    tf.dispose(x);
    model.dispose();
  });

  it('needs a range for every layer the int8 graph quantises but the output (not dense1, folded, nor the dropout)', () => {
    const model = build();
    assert.throws(() => FakeQuantization.attach(model, { input: ranges.input, layers: { dense1: ranges.layers.dense1, logits: ranges.layers.logits } }),
      (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && e.message === 'Quantisation-aware training needs a range for ' +
        'every quantised layer. Received: missing=["relu"]. Pass the ranges calibrate() gives for this model.');
    model.dispose();
  });
});
