// calibrate() on a seed-cnn trained briefly on CIFAR-10: the ranges' keys and order, what every range contains,
// post-ReLU minima, percentile and entropy inside min-max, determinism, and the source and option errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { calibrate } from '../../../src/compress/quantize';
import { InsightError } from '../../../src/errors';
import type { ActivationRanges } from '../../../src/onnx/quantization_params';
import { trainedCnn, validationLoader, type TrainedCnn } from './trained_cnn';

let data: TrainedCnn;
const ranges: Record<string, ActivationRanges> = {};
const LAYERS = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'flatten', 'dense1', 'logits'];
const POST_RELU = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'flatten', 'dense1'];

before(async () => {
  await initBackend();
  data = await trainedCnn();
  for (const method of ['minmax', 'percentile', 'entropy'] as const) {
    ranges[method] = await calibrate(data.model, data.train, { images: 256, method, seed: 3 });
  }
});

after(() => data.model.dispose());

describe('calibrate on a trained seed-cnn', () => {
  it('gives the input and every layer output, in graph order, each range holding 0', () => {
    for (const [method, r] of Object.entries(ranges)) {
      assert.deepEqual(Object.keys(r.layers), LAYERS, method);
      for (const [name, { min, max }] of [['input', r.input] as const, ...Object.entries(r.layers)]) {
        assert.ok(min <= 0 && 0 <= max && min < max, `${method} ${name}: [${min}, ${max}]`);
        assert.equal(Math.fround(min), min);
        assert.equal(Math.fround(max), max);
      }
    }
  });

  it('post-ReLU outputs have min 0; the input spans the scaled pixels; the logits are signed', () => {
    for (const [method, r] of Object.entries(ranges)) {
      for (const name of POST_RELU) assert.equal(r.layers[name].min, 0, `${method} ${name}`);
      assert.ok(r.layers.logits.min < 0 && r.layers.logits.max > 0, method);
    }
    assert.deepEqual(ranges.minmax.input, { min: 0, max: 1 });
    // pooling and flatten pass values on: their ranges are their inputs' (max-pool keeps the maximum)
    assert.deepEqual(ranges.minmax.layers.pool1, ranges.minmax.layers.conv1);
    assert.deepEqual(ranges.minmax.layers.flatten, ranges.minmax.layers.conv3);
  });

  it('percentile and entropy ranges lie inside the min-max ones, and clip something', () => {
    for (const method of ['percentile', 'entropy']) {
      let clipped = 0;
      for (const name of LAYERS) {
        const [r, m] = [ranges[method].layers[name], ranges.minmax.layers[name]];
        assert.ok(r.min >= m.min && r.max <= m.max, `${method} ${name}: [${r.min}, ${r.max}] vs [${m.min}, ${m.max}]`);
        if (r.max < m.max) clipped++;
      }
      assert.ok(clipped >= 4, `${method} clips ${clipped} of ${LAYERS.length}`);
    }
  });

  it('is deterministic for a seed; another seed samples other images', async () => {
    assert.deepEqual(await calibrate(data.model, data.train, { images: 256, method: 'entropy', seed: 3 }), ranges.entropy);
    assert.notDeepEqual(await calibrate(data.model, data.train, { images: 256, method: 'minmax', seed: 4 }), ranges.minmax);
  });

  it('reads the first N images of a DataLoader, as many times as it needs', async () => {
    const loader = validationLoader(data, 100);
    const before = tf.memory().numTensors;
    const a = await calibrate(data.model, loader, { images: 250, method: 'percentile', percentile: 99.9 });
    assert.equal(tf.memory().numTensors, before);
    const b = await calibrate(data.model, loader, { images: 250, method: 'percentile', percentile: 99.9 });
    assert.deepEqual(a, b);
    await assert.rejects(calibrate(data.model, loader, { images: 600, method: 'minmax' }), (e: unknown) => e instanceof InsightError
      && e.message === 'Calibration needs at most as many images as the loader gives in an epoch. Received: images=600, epochImages=512. Pass images: 512 or fewer, or a larger dataset.');
    await loader.close();
  });

  it('rejects a bad method, percentile or image count with the house error', async () => {
    const houseError = (message: RegExp) => (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && message.test(e.message);
    await assert.rejects(calibrate(data.model, data.train, { images: 8, method: 'kl' as 'entropy' }),
      houseError(/^The calibration method must be one of minmax, percentile, entropy\. Received: method="kl"\./));
    await assert.rejects(calibrate(data.model, data.train, { images: 8, method: 'percentile', percentile: 0 }),
      houseError(/^percentile must be in \(0, 100\]\. Received: percentile=0\./));
    await assert.rejects(calibrate(data.model, data.train, { images: 5000, method: 'minmax' }),
      houseError(/Received: images=5000, available=2000\./));
  });
});
