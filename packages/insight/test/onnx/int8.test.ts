// exportOnnx int8 (QDQ): a seed-cnn trained briefly on CIFAR-10 (2 epochs on 2000 images, seeded), calibrated by
// min-max over every layer's output on 256 training images, exported with int8 per-channel weights and uint8
// activations. ONNX Runtime really runs integer kernels (its optimised graph has QLinearConv and QGemm, no float
// Conv or Gemm); its outputs are those of the same quantisation simulated in tfjs (fake-quantised weights and
// activations: the writer is exact), and its argmax agrees with float tfjs's on 2000 held-out images (the rest is
// int8's own rounding: weights alone flip as many near-ties on this barely trained model); the file is at most
// 1/3.5 of the fp32 one, and onnx.checker accepts it. Also resnet (Add, BatchNorm folded) in int8.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { DataLoader, type ImageDataset, loadCifar10, subsetDataset } from '../../src/data';
import { createModel } from '../../src/models';
import { buildSeedCnn } from '../../src/models/seed_cnn';
import { exportOnnx } from '../../src/onnx/export';
import type { ActivationRanges } from '../../src/onnx/quantization_params';
import { activationParams, biasScaleFloors, quantizeBias, quantizeWeights } from '../../src/onnx/quant';
import { OnnxModel } from '../../src/onnx/runtime';
import { Adam, paramsOf } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { fit, trainableVariables } from '../../src/train/trainer';
import { CIFAR_ARCHIVE } from '../shared_data';
import { checkOnnx, opCounts, randomizeWeights } from './onnx_helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-onnx-int8-'));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

let model: tfl.LayersModel;
let calibration: tf.Tensor4D;
let heldOut: tf.Tensor4D;

/** All of a dataset's images, normalised as for training (x/255), as one tensor. */
async function imagesOf(ds: ImageDataset): Promise<tf.Tensor4D> {
  const loader = new DataLoader(ds, { batchSize: ds.count, shuffle: false, workers: 0 });
  for await (const batch of loader.epoch(0)) {
    await loader.close();
    return tf.tensor4d(batch.x, [batch.size, ds.height, ds.width, 3]);
  }
  throw new Error('no batch');
}

/** Min-max ranges of the input and of every layer's output on `x` (the ActivationRanges the export takes). */
function minMaxRanges(m: tfl.LayersModel, x: tf.Tensor): ActivationRanges {
  const layers = m.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const probe = tfl.model({ inputs: m.inputs, outputs: layers.map((l) => l.output as tfl.SymbolicTensor) });
  const outputs = probe.predict(x) as tf.Tensor[];
  const ranges: ActivationRanges = { input: { min: tf.min(x).dataSync()[0], max: tf.max(x).dataSync()[0] }, layers: {} };
  layers.forEach((l, k) => {
    ranges.layers[l.name] = { min: tf.min(outputs[k]).dataSync()[0], max: tf.max(outputs[k]).dataSync()[0] };
  });
  tf.dispose(outputs);
  return ranges;
}

/**
 * The int8 model as tfjs computes it: weights rounded to int8 per output channel, the input and each Conv/Dense
 * output but the last rounded to its uint8 grid. seed-cnn only (a Sequential whose pools and Flatten keep their
 * input's grid).
 */
function simulateInt8(m: tfl.LayersModel, ranges: ActivationRanges, x: tf.Tensor): Float32Array {
  const saved = m.getWeights().map((w) => w.clone());
  const fakeQuant = (t: tf.Tensor, range: { min: number; max: number }) => {
    const { scale, zeroPoint } = activationParams(range);
    return tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(t, scale)), zeroPoint), 0, 255), zeroPoint), scale);
  };
  try {
    for (const layer of m.layers) {
      const [kernel, ...rest] = layer.getWeights();
      if (kernel === undefined) continue;
      const channelScale = tf.div(tf.max(tf.abs(kernel), kernel.shape.slice(0, -1).map((_, k) => k), true), 127);
      layer.setWeights([tf.mul(tf.round(tf.div(kernel, channelScale)), channelScale), ...rest]);
    }
    const last = m.layers[m.layers.length - 1];
    return tf.tidy(() => {
      let y = fakeQuant(x, ranges.input);
      for (const layer of m.layers) {
        y = layer.apply(y) as tf.Tensor;
        if (layer !== last && layer.getWeights().length > 0) y = fakeQuant(y, ranges.layers[layer.name]);
      }
      return y;
    }).dataSync() as Float32Array;
  } finally {
    m.setWeights(saved);
    tf.dispose(saved);
  }
}

function argmaxes(values: Float32Array, classes: number): number[] {
  return Array.from({ length: values.length / classes }, (_, i) => {
    const row = values.subarray(i * classes, (i + 1) * classes);
    return row.indexOf(Math.max(...row));
  });
}

before(async () => {
  await initBackend();
  const all = await loadCifar10({ path: CIFAR_ARCHIVE });
  const train = subsetDataset(all, range(0, 2000));
  model = buildSeedCnn({ inputShape: [32, 32, 3], numClasses: 10, dropout: 0, seed: 7 });
  const loader = new DataLoader(train, { batchSize: 64, seed: 7, workers: 0 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  await fit(model, loader, { epochs: 2, optimizer, schedule: new ConstantSchedule(1e-3), seed: 7 });
  optimizer.dispose();
  await loader.close();
  calibration = await imagesOf(subsetDataset(all, range(0, 256)));
  heldOut = await imagesOf(subsetDataset(all, range(10000, 2000)));
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('exportOnnx int8 (QDQ)', () => {
  it('seed-cnn: integer kernels in ONNX Runtime, tfjs\'s simulated int8 outputs, argmax agreement, <= 1/3.5 of the fp32 size', async () => {
    const ranges = minMaxRanges(model, calibration);
    assert.equal(ranges.layers.conv1.min, 0); // a fused ReLU's output
    const int8 = exportOnnx(model, { int8: ranges });
    const fp32 = exportOnnx(model);
    checkOnnx(int8);
    const written = opCounts(int8);
    assert.equal(written.Relu, undefined); // every ReLU is the clip of its output's quantisation
    assert.ok(written.QuantizeLinear > 0 && written.DequantizeLinear > written.QuantizeLinear);
    assert.ok(int8.length <= fp32.length / 3.5, `int8 ${int8.length} B vs fp32 ${fp32.length} B: ratio ${fp32.length / int8.length}`);

    const optimized = path.join(tmp, 'optimized.onnx');
    const session = await OnnxModel.load(int8, { threads: 1, optimizedModelFilePath: optimized });
    const onnx = await session.predict(heldOut.dataSync() as Float32Array, heldOut.shape[0]);
    await session.dispose();
    const ops = opCounts(fs.readFileSync(optimized));
    assert.equal(ops.QLinearConv, 3, JSON.stringify(ops));
    assert.equal(ops.Conv, undefined);
    assert.equal((ops.QGemm ?? 0) + (ops.QLinearMatMul ?? 0), 2, JSON.stringify(ops));
    assert.equal(ops.Gemm, undefined);

    // The writer is exact: ONNX Runtime's integer kernels give the int8 model simulated in tfjs (differences are
    // the requantisation's rounding of a few values by one step).
    const simulated = simulateInt8(model, ranges, heldOut);
    let maxDiff = 0;
    for (let k = 0; k < onnx.length; k++) maxDiff = Math.max(maxDiff, Math.abs(onnx[k] - simulated[k]));
    const agree = (p: number[], q: number[]) => p.filter((c, i) => c === q[i]).length / p.length;
    const int8Classes = argmaxes(onnx, 10);
    const simulatedAgreement = agree(int8Classes, argmaxes(simulated, 10));
    // Against float tfjs: int8's own rounding.
    const fp32Classes = argmaxes(tf.tidy(() => model.predict(heldOut) as tf.Tensor).dataSync() as Float32Array, 10);
    const agreement = agree(int8Classes, fp32Classes);
    if (process.env.INSIGHT_ONNX_REPORT) {
      console.log(`int8 vs fp32 agreement ${agreement} on ${fp32Classes.length}, vs simulated ${simulatedAgreement} (max diff ${maxDiff}), size ratio ${fp32.length / int8.length}`);
    }
    assert.ok(simulatedAgreement >= 0.995, `ONNX Runtime vs simulated int8: ${simulatedAgreement}`);
    assert.ok(maxDiff < 0.05, `max |onnx - simulated| = ${maxDiff}`);
    // A 2-epoch model has many near ties: its agreement moves with the training's float rounding (above 0.99 with
    // tfjs's unfused convolution gradients, 0.9875 with the fused ones).
    assert.ok(agreement >= 0.985, `argmax agreement with fp32 tfjs ${agreement}`);
    assert.ok(new Set(fp32Classes).size >= 5); // a classifier, not a constant
  });

  it('a channel whose weights are almost all pruned keeps its bias: the weight scale widens until the int32 bias fits', () => {
    // Channel 0: ordinary; channel 1: weights ~1e-9 (scale ~8e-12), bias 0.5 at input scale 0.01 → 6e9 steps of int32.
    const kernel = tf.tensor2d([[0.5, -0.25], [1e-9, -1e-9]]); // [out 2, in 2]: output channels along axis 0
    const bias = new Float32Array([0.1, 0.5]);
    const floors = biasScaleFloors(bias, 0.01);
    const q = quantizeWeights(kernel, 0, floors);
    const b = quantizeBias(bias, 0.01, q.scales);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(b.values[c]) < 2147483647, `channel ${c}: bias ${b.values[c]} is not clamped`);
      assert.ok(Math.abs(b.values[c] * b.scales[c] - bias[c]) <= b.scales[c], `channel ${c}: the int32 bias gives back ${bias[c]}`);
    }
    assert.equal(q.scales[0], Math.fround(0.5 / 127), 'an ordinary channel keeps max|w| / 127');
    const unfloored = quantizeBias(bias, 0.01, quantizeWeights(kernel, 0).scales);
    assert.equal(Math.abs(unfloored.values[1]), 2147483647, 'without the floor the bias would be clamped');
    kernel.dispose();
  });

  it('a model whose output is a ReLU (fused, or a ReLU layer) keeps it: the float output is not clipped by a range', async () => {
    const x = tf.randomUniform([16, 8, 8, 3], -1, 1, 'float32', 4);
    for (const fused of [true, false]) {
      const input = tfl.input({ shape: [8, 8, 3] });
      const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) })
        .apply(input) as tfl.SymbolicTensor;
      const flat = tfl.layers.flatten().apply(conv) as tfl.SymbolicTensor;
      const dense = tfl.layers.dense({ units: 6, activation: fused ? 'relu' : 'linear', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) })
        .apply(flat) as tfl.SymbolicTensor;
      const output = fused ? dense : tfl.layers.reLU().apply(dense) as tfl.SymbolicTensor;
      const m = tfl.model({ inputs: input, outputs: output });
      const session = await OnnxModel.load(exportOnnx(m, { int8: minMaxRanges(m, x) }), { threads: 1 });
      const y = await session.predict(x.dataSync() as Float32Array, 16);
      await session.dispose();
      const expected = tf.tidy(() => m.predict(x) as tf.Tensor).dataSync() as Float32Array;
      assert.ok(expected.some((v) => v === 0), 'the tfjs output has ReLU zeros');
      assert.ok(y.every((v) => v >= 0), `${fused ? 'fused' : 'layer'} ReLU: the ONNX output has no negative value (min ${Math.min(...y)})`);
      const worst = Math.max(...y.map((v, i) => Math.abs(v - expected[i])));
      assert.ok(worst < 0.05 * Math.max(...expected), `${fused ? 'fused' : 'layer'} ReLU: max |int8 - fp32| ${worst}`);
      m.dispose();
    }
    x.dispose();
  });

  it('resnet: BatchNorm folded, Add and ReLU quantised; ONNX Runtime runs QLinearConv and QLinearAdd', async () => {
    const resnet = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 10, seed: 3 });
    randomizeWeights(resnet, 8);
    const x = tf.randomUniform([32, 16, 16, 3], 0, 1, 'float32', 9);
    const ranges = minMaxRanges(resnet, x);
    const live = tf.memory().numTensors;
    const int8 = exportOnnx(resnet, { int8: ranges });
    assert.equal(tf.memory().numTensors, live, 'the writer frees every tensor it makes');
    checkOnnx(int8);
    const optimized = path.join(tmp, 'resnet.onnx');
    const session = await OnnxModel.load(int8, { threads: 1, optimizedModelFilePath: optimized });
    const y = await session.predict(x.dataSync() as Float32Array, 32);
    await session.dispose();
    const ops = opCounts(fs.readFileSync(optimized));
    assert.deepEqual([ops.QLinearConv, ops.QLinearAdd, ops.Conv], [21, 9, undefined]);
    const expected = tf.tidy(() => resnet.predict(x) as tf.Tensor).dataSync() as Float32Array;
    const agree = argmaxes(expected, 10).filter((c, i) => c === argmaxes(y, 10)[i]).length;
    assert.ok(agree >= 28, `${agree}/32 argmaxes agree`);
  });
});
