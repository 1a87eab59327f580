// Drift monitoring: the training distribution written into model metadata, the sliding window reduced on the
// backend (checked against plain JS sums), PSI, and the gauges a real server exports — only for models whose
// metadata carries a distribution.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { getInsightMetadata, recordTrainingDistribution, trainingDistributionOf, type TrainingDistribution } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import { DriftWindow, psi } from '../../src/serve/monitoring/drift';
import type { ServeInstance } from '../../src/serve/start';
import { train } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';
import { backend, instance, saveVersion, tempRepository, testServer, tinyModel } from './helpers';

/** A seeded stream of floats in [-1, 1). */
function floats(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** One-hot-ish probabilities whose argmax is `classes[i]`. */
function probabilitiesOf(classes: number[], numClasses: number): Float32Array {
  const p = new Float32Array(classes.length * numClasses).fill(0.1);
  classes.forEach((k, i) => { p[i * numClasses + k] = 0.8; });
  return p;
}

describe('trainingDistributionOf', () => {
  it('normalized channel mean/std and class frequencies of a tiny dataset', () => {
    // Two 1x1 images: (0, 255, 51) and (255, 255, 153); labels 0 and 2 of 3 classes.
    const images = Uint8Array.from([0, 255, 51, 255, 255, 153]);
    const scale = trainingDistributionOf(images, Int32Array.from([0, 2]), 3, { kind: 'scale' });
    assert.deepEqual(scale.classFrequencies, [0.5, 0, 0.5]);
    assert.equal(scale.images, 2);
    [0.5, 1, 0.4].forEach((m, c) => assert.ok(Math.abs(scale.channelMean[c] - m) < 1e-12, `mean[${c}]`));
    [0.5, 0, 0.2].forEach((s, c) => assert.ok(Math.abs(scale.channelStd[c] - s) < 1e-12, `std[${c}]`));
    const meanstd = trainingDistributionOf(images, Int32Array.from([0, 2]), 3, { kind: 'meanstd', mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.1] });
    [0, 2, -1].forEach((m, c) => assert.ok(Math.abs(meanstd.channelMean[c] - m) < 1e-12, `normalized mean[${c}]`));
    [1, 0, 2].forEach((s, c) => assert.ok(Math.abs(meanstd.channelStd[c] - s) < 1e-12, `normalized std[${c}]`));
  });
});

describe('training writes the distribution into the model metadata', () => {
  it('train() on real images: normalized channel mean 0 / std 1 (meanstd from the same split), label frequencies', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-drift-train-'));
    const result = await train({
      data: JPG_MINI, limit: 40, validationCount: 8, epochs: 1, batchSize: 16, workers: 0, tensorboard: false, seed: 3, runsDir, normalization: 'meanstd',
    }, { out: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream });
    result.model.dispose();
    const model = await loadModel(path.join(result.runDir, 'model'));
    const meta = getInsightMetadata(model, 'trained');
    model.dispose();
    const d = meta.trainingDistribution!;
    assert.equal(d.images, 32);
    assert.equal(d.classFrequencies.length, meta.classNames.length);
    assert.ok(Math.abs(d.classFrequencies.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(d.classFrequencies.every((f) => Number.isInteger(f * 32)), 'shares of 32 labels');
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(d.channelMean[c]) < 1e-6, `mean[${c}] = ${d.channelMean[c]}`);
      assert.ok(Math.abs(d.channelStd[c] - 1) < 1e-6, `std[${c}] = ${d.channelStd[c]}`);
    }
  });
});

describe('psi', () => {
  it('is 0 for equal shares and matches the formula otherwise', () => {
    assert.equal(psi([0.25, 0.75], [0.25, 0.75]), 0);
    const expected = (0.5 - 0.25) * Math.log(0.5 / 0.25) + (0.5 - 0.75) * Math.log(0.5 / 0.75);
    assert.ok(Math.abs(psi([0.5, 0.5], [0.25, 0.75]) - expected) < 1e-12);
    // An empty class counts as 1e-4, so the index stays finite.
    assert.ok(Math.abs(psi([0, 1], [0.5, 0.5]) - ((1e-4 - 0.5) * Math.log(1e-4 / 0.5) + 0.5 * Math.log(2))) < 1e-12);
  });
});

describe('DriftWindow', () => {
  const reference: TrainingDistribution = { images: 10, channelMean: [0, 0, 0], channelStd: [1, 1, 1], classFrequencies: [0.5, 0.25, 0.25] };

  it('per-channel mean/std and predicted shares equal plain JS sums over the window', async () => {
    await backend();
    const window = new DriftWindow(reference, 1000);
    const pixels = 4 * 4;
    const x1 = floats(2 * pixels * 3, 1);
    const x2 = floats(3 * pixels * 3, 2).map((v) => v * 2 + 0.5);
    window.observe(x1, 2, probabilitiesOf([0, 1], 3));
    window.observe(x2, 3, probabilitiesOf([1, 1, 2], 3));
    const all = new Float32Array([...x1, ...x2]);
    const snap = window.snapshot()!;
    assert.equal(snap.instances, 5);
    for (let c = 0; c < 3; c++) {
      const values = all.filter((_, i) => i % 3 === c);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      assert.ok(Math.abs(snap.channelMean[c] - mean) < 1e-5, `mean[${c}] ${snap.channelMean[c]} vs ${mean}`);
      assert.ok(Math.abs(snap.channelStd[c] - std) < 1e-4, `std[${c}] ${snap.channelStd[c]} vs ${std}`);
    }
    assert.deepEqual(snap.predictedShare, [0.2, 0.6, 0.2]);
    assert.ok(Math.abs(snap.psi - psi([0.2, 0.6, 0.2], [0.5, 0.25, 0.25])) < 1e-12);
  });

  it('slides: old batches leave once the newer ones fill the window', async () => {
    await backend();
    const window = new DriftWindow(reference, 4);
    window.observe(floats(2 * 3, 3), 2, probabilitiesOf([0, 0], 3));
    window.observe(floats(2 * 3, 4), 2, probabilitiesOf([1, 1], 3));
    assert.deepEqual(window.snapshot()!.predictedShare, [0.5, 0.5, 0]);
    window.observe(floats(2 * 3, 5), 2, probabilitiesOf([2, 2], 3));
    const snap = window.snapshot()!;
    assert.equal(snap.instances, 4);
    assert.deepEqual(snap.predictedShare, [0, 0.5, 0.5]);
  });
});

describe('drift gauges of a served model', () => {
  let server: ServeInstance;
  const distribution: TrainingDistribution = { images: 100, channelMean: [0.1, -0.2, 0.3], channelStd: [1, 0.9, 1.1], classFrequencies: [0.6, 0.3, 0.1] };

  before(async () => {
    await backend();
    const root = tempRepository();
    const model = tinyModel(5);
    recordTrainingDistribution(model, distribution);
    await saveModel(model, path.join(root, 'watched', '1'));
    model.dispose();
    await saveVersion(root, 'plain', 1); // no distribution in its metadata
    server = await testServer(root, { maxBatchSize: 4 });
  });
  after(() => server.close());

  it('exports PSI of the predicted classes, the input channel statistics and the training reference', async () => {
    const predicted: number[] = [];
    const xs = [1, 2, 3, 4, 5, 6].map((i) => instance(i));
    for (const name of ['watched', 'plain']) {
      const res = await server.app.inject({ method: 'POST', url: `/v1/models/${name}:predict`, payload: { instances: xs } });
      assert.equal(res.statusCode, 200, res.body);
      if (name === 'watched') {
        for (const p of (res.json() as { predictions: number[][] }).predictions) predicted.push(p.indexOf(Math.max(...p)));
      }
    }
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    const share = [0, 1, 2].map((k) => predicted.filter((c) => c === k).length / predicted.length);
    const value = (pattern: RegExp) => {
      const m = text.match(pattern);
      assert.ok(m, `${pattern} in /metrics`);
      return Number(m[1]);
    };
    assert.ok(Math.abs(value(/^insight_drift_psi\{model="watched"\} (\S+)$/m) - psi(share, distribution.classFrequencies)) < 1e-9);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(value(new RegExp(`^insight_predicted_class_share\\{model="watched",class="${k}"\\} (\\S+)$`, 'm')) - share[k]) < 1e-12);
    const flat = xs.flat(3);
    for (let c = 0; c < 3; c++) {
      const values = flat.filter((_, i) => i % 3 === c);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      assert.ok(Math.abs(value(new RegExp(`^insight_input_channel_mean\\{model="watched",channel="${c}"\\} (\\S+)$`, 'm')) - mean) < 1e-5);
      assert.equal(value(new RegExp(`^insight_training_channel_mean\\{model="watched",channel="${c}"\\} (\\S+)$`, 'm')), distribution.channelMean[c]);
    }
    assert.doesNotMatch(text, /^insight_(drift|input|training|predicted)\w*\{model="plain"/m);
    assert.match(text, /^insight_serve_batch_size_count\{model="plain"\} \d+$/m); // plain was served
  });

  it('drops an unloaded model\'s drift gauges', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/v1/models/watched:predict', payload: { instances: [instance(7)] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.match((await server.app.inject({ method: 'GET', url: '/metrics' })).body, /^insight_drift_psi\{model="watched"\} /m);
    const unload = await server.app.inject({ method: 'POST', url: '/admin/models/watched/unload' });
    assert.equal(unload.statusCode, 200, unload.body);
    assert.doesNotMatch((await server.app.inject({ method: 'GET', url: '/metrics' })).body, /^insight_(drift|input|predicted)\w*\{model="watched"/m);
  });
});
