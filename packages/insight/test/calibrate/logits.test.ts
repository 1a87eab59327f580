// The logits temperature scaling is fitted on: the raw logits (T = 1, no TTA) whatever temperature and TTA the model
// stores, and log p for a model whose output is probabilities (an ensemble), in loader order with their labels.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { labelledLogits } from '../../src/calibrate/logits';
import { DataLoader, type ImageDataset } from '../../src/data';
import { resolveInference } from '../../src/models/inference_output';

/** 7 seeded 8x8 images of 3 classes. */
const dataset: ImageDataset = {
  images: Uint8Array.from({ length: 7 * 8 * 8 * 3 }, (_, i) => (i * 89 + 7) % 256), labels: Int32Array.from([0, 1, 2, 2, 1, 0, 1]),
  count: 7, height: 8, width: 8, channels: 3, classNames: ['a', 'b', 'c'],
};
const normalization = { kind: 'scale' as const };

function net(softmax: boolean): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }), activation: softmax ? 'softmax' : 'linear' }),
    ],
  });
}

/** The model's raw output on the whole dataset, [7, 3] row-major. */
function rawOutput(model: tfl.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(tf.div(tf.tensor4d(dataset.images, [7, 8, 8, 3], 'float32'), 255)) as tf.Tensor2D).dataSync() as Float32Array);
}

describe('labelled logits for the temperature fit', () => {
  before(async () => {
    await initBackend('torch');
  });

  it('are the raw logits, in loader order, even when the model stores a temperature and TTA', async () => {
    const model = net(false);
    const settings = resolveInference({ inputShape: [8, 8, 3], inference: { temperature: 3, tta: { flip: true, shift: 1 } } }, 'test');
    const loader = new DataLoader(dataset, { batchSize: 3, shuffle: false, normalization, workers: 0 });
    const result = await labelledLogits(model, loader, settings);
    await loader.close();
    assert.equal(result.numClasses, 3);
    assert.deepEqual(Array.from(result.labels), Array.from(dataset.labels));
    const raw = rawOutput(model);
    result.logits.forEach((v, i) => assert.ok(Math.abs(v - raw[i]) < 1e-5, `logit ${i}: ${v} vs ${raw[i]}`));
    model.dispose();
  });

  it('are log p for an output of probabilities (so the seam\'s softmax(log p / T) is what was fitted)', async () => {
    const model = net(true);
    const settings = resolveInference({ inputShape: [8, 8, 3], inference: { output: 'probabilities', temperature: 0.5 } }, 'test');
    const loader = new DataLoader(dataset, { batchSize: 4, shuffle: false, normalization, workers: 0 });
    const result = await labelledLogits(model, loader, settings);
    await loader.close();
    const p = rawOutput(model);
    result.logits.forEach((v, i) => assert.ok(Math.abs(v - Math.log(p[i])) < 1e-5, `log p ${i}: ${v} vs ${Math.log(p[i])}`));
    model.dispose();
  });
});
