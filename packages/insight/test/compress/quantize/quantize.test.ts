// Post-training int8 quantisation and quantisation-aware training of a seed-cnn trained briefly on CIFAR-10, run in
// ONNX Runtime: every calibration method's int8 graph agrees with fp32 tfjs on >= 99% of 512 validation images; one
// QAT epoch lowers the fake-quantised model's loss, and its ranges export to an int8 graph that agrees with its
// own fp32 model at least as well as post-training quantisation did (or within 0.5 pt).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { agreement, calibrate, evaluateOnnx, FakeQuantization, quantizationAwareTraining, quantizeModel } from '../../../src/compress/quantize';
import { DataLoader } from '../../../src/data';
import { runInference } from '../../../src/eval/inference';
import { argmaxRows } from '../../../src/math/top_k';
import { exportOnnx } from '../../../src/onnx';
import type { ActivationRanges } from '../../../src/onnx/quantization_params';
import { trainedCnn, validationLoader, type TrainedCnn } from './trained_cnn';

let data: TrainedCnn;
let validation: DataLoader;
const ptq: Record<string, { agreement: number; accuracy: number; ranges: ActivationRanges }> = {};

/** fp32 tfjs argmax predictions and accuracy on the validation loader. */
async function fp32(model = data.model) {
  const result = await runInference(model, validation);
  const predictions = argmaxRows(result.probabilities, result.numClasses);
  return { predictions, accuracy: predictions.filter((p, i) => p === result.labels[i]).length / result.count, loss: result.loss };
}

before(async () => {
  await initBackend();
  data = await trainedCnn();
  validation = validationLoader(data);
});

after(async () => {
  await validation.close();
  data.model.dispose();
});

describe('post-training int8 quantisation in ONNX Runtime', () => {
  for (const method of ['minmax', 'percentile', 'entropy'] as const) {
    it(`${method}: the int8 graph agrees with fp32 tfjs on >= 99% of the validation images`, async () => {
      const reference = await fp32();
      const { onnx, ranges } = await quantizeModel(data.model, data.train, { images: 512, method, seed: 1 });
      const int8 = await evaluateOnnx(onnx, validation, { threads: 1 });
      assert.equal(int8.count, 512);
      assert.equal(int8.logits.length, 512 * 5);
      assert.deepEqual(Object.keys(ranges.layers), ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'flatten', 'dense1'], 'the logits stay float');
      const agree = agreement(int8.predictions, reference.predictions);
      ptq[method] = { agreement: agree, accuracy: int8.accuracy, ranges };
      console.log(`${method}: int8 accuracy ${int8.accuracy.toFixed(4)} (fp32 ${reference.accuracy.toFixed(4)}), argmax agreement ${agree.toFixed(4)}, ${onnx.byteLength} bytes`);
      assert.ok(agree >= 0.99, `${method}: agreement ${agree}`);
      assert.ok(Math.abs(int8.accuracy - reference.accuracy) <= 0.02, `${method}: ${int8.accuracy} vs ${reference.accuracy}`);
    });
  }

  it('the int8 graph is about 4x smaller than the fp32 one', () => {
    const fp32Bytes = exportOnnx(data.model).byteLength;
    const int8Bytes = exportOnnx(data.model, { int8: ptq.minmax.ranges }).byteLength;
    console.log(`fp32 ${fp32Bytes} bytes, int8 ${int8Bytes} bytes (${(fp32Bytes / int8Bytes).toFixed(2)}x)`);
    assert.ok(fp32Bytes / int8Bytes > 3.5, `${fp32Bytes} / ${int8Bytes}`);
  });
});

describe('quantisation-aware training', () => {
  it('one epoch lowers the fake-quantised loss; its ranges export to int8 agreeing with fp32 as well as PTQ', async () => {
    const start = ptq.minmax.ranges;
    const trainEval = new DataLoader(data.train, { batchSize: 256, shuffle: false, workers: 0 });
    const fakeQuantizedLoss = async (ranges: ActivationRanges) => {
      const fq = FakeQuantization.attach(data.model, ranges);
      try {
        return (await runInference(data.model, trainEval)).loss;
      } finally {
        await fq.detach();
      }
    };
    const before = tf.memory().numTensors;
    const lossBefore = await fakeQuantizedLoss(start);
    const train = new DataLoader(data.train, { batchSize: 64, seed: 11, workers: 0 });
    const result = await quantizationAwareTraining(data.model, train, { epochs: 1, lr: 2e-4, ranges: start, seed: 11 });
    await train.close();
    const lossAfter = await fakeQuantizedLoss(result.ranges);
    await trainEval.close();
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks; the layers have their own calls back');
    assert.equal(result.state.epoch, 1);
    assert.deepEqual(result.initialRanges, start);
    assert.deepEqual(Object.keys(result.ranges.layers), Object.keys(start.layers));
    assert.notDeepEqual(result.ranges, start, 'the moving averages moved');
    assert.ok(lossAfter < lossBefore, `fake-quantised loss ${lossBefore} → ${lossAfter}`);

    const reference = await fp32();
    const int8 = await evaluateOnnx(exportOnnx(data.model, { int8: result.ranges }), validation, { threads: 1 });
    const agree = agreement(int8.predictions, reference.predictions);
    console.log(`QAT: fake-quantised loss ${lossBefore.toFixed(4)} → ${lossAfter.toFixed(4)}; int8 accuracy ${int8.accuracy.toFixed(4)} ` +
      `(fp32 ${reference.accuracy.toFixed(4)}), agreement ${agree.toFixed(4)} (PTQ min-max ${ptq.minmax.agreement.toFixed(4)})`);
    assert.ok(agree >= ptq.minmax.agreement - 0.005, `QAT agreement ${agree} vs PTQ ${ptq.minmax.agreement}`);
  });

  it('the model is plain again after training: its own layer calls, no fake quantisation', async () => {
    const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 5);
    const fq = FakeQuantization.attach(data.model, await calibrate(data.model, data.train, { images: 64, method: 'minmax' }));
    const quantized = data.model.predict(x) as tf.Tensor;
    await fq.detach();
    const plain = data.model.predict(x) as tf.Tensor;
    const again = data.model.predict(x) as tf.Tensor;
    assert.notDeepEqual(await quantized.data(), await plain.data());
    assert.deepEqual(await plain.data(), await again.data());
    assert.ok(data.model.layers.every((layer) => !Object.prototype.hasOwnProperty.call(layer, 'kernel') || (layer as unknown as { kernel: object }).kernel.constructor.name === 'LayerVariable'));
    tf.dispose([x, quantized, plain, again]);
  });
});
