// Model directories: our file IOHandler round-trips a model with its metadata, and the saved files load in
// plain TensorFlow.js (a separate Node process with only tfjs-core, tfjs-backend-cpu and tfjs-layers, using its
// own minimal file handler) and predict the same.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { createModel, getInsightMetadata } from '../../src/models';
import { loadModel, resolveModelDir, saveModel } from '../../src/run/model_io';

before(async () => {
  await initBackend();
});

/** Deterministic input batch [2, 32, 32, 3] in [0, 1]. */
function input(): number[] {
  return Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => ((i * 37) % 255) / 255);
}

const PLAIN_TFJS = `
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');
const dir = process.argv[1];
const handler = {
  load: async () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      const specs = manifest.flatMap((g) => g.weights);
      const bytes = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
      return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
    });
  },
};
(async () => {
  await tf.setBackend('cpu');
  const model = await tfl.loadLayersModel(handler);
  const x = tf.tensor4d(JSON.parse(fs.readFileSync(path.join(dir, 'x.json'), 'utf8')), [2, 32, 32, 3]);
  const y = model.predict(x);
  process.stdout.write(JSON.stringify({ backend: tf.getBackend(), y: Array.from(y.dataSync()), meta: model.getUserDefinedMetadata() }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('model directories', () => {
  it('save → load with our handler keeps weights, topology and metadata', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-model-')), 'model');
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1, classNames: 'abcdefghij'.split('') });
    await saveModel(model, dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['model']);
    const loaded = await loadModel(dir);
    assert.deepEqual(getInsightMetadata(loaded, dir), getInsightMetadata(model, 'original'));
    const x = tf.tensor4d(input(), [2, 32, 32, 3]);
    assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });

  it('loads in plain TensorFlow.js on the cpu backend and predicts the same', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-plain-'));
    const model = createModel('resnet', { inputShape: [32, 32, 3], numClasses: 10, depth: 8, width: 4, seed: 2 });
    await saveModel(model, dir);
    fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify(input()));
    const x = tf.tensor4d(input(), [2, 32, 32, 3]);
    const ours = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const out = JSON.parse(execFileSync(process.execPath, ['-e', PLAIN_TFJS, dir], { cwd: __dirname, encoding: 'utf8' }));
    assert.equal(out.backend, 'cpu');
    assert.equal(out.meta.insight.architecture, 'resnet');
    assert.equal(out.y.length, ours.length);
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(out.y[i] - ours[i]) < 1e-4, `${i}: ${out.y[i]} vs ${ours[i]}`);
    tf.dispose(x);
    model.dispose();
  });

  it('a missing or incomplete model directory is INSIGHT_E_MODEL with the fix', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-empty-'));
    assert.throws(() => resolveModelDir(empty), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_MODEL' &&
      /must be a directory with model.json, or a completed run directory\. Received: model=".*", exists=true\. Pass e\.g\. runs\/<run-id>/.test(e.message));
    fs.writeFileSync(path.join(empty, 'run.json'), '{}');
    assert.throws(() => resolveModelDir(empty), /A run has a model\/ directory only once it has completed/);
    fs.writeFileSync(path.join(empty, 'model.json'), '{"modelTopology": {}, "weightsManifest": [{"paths": ["./weights.bin"], "weights": []}]}');
    await assert.rejects(loadModel(empty), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_MODEL' && /weight file listed in model.json must exist/.test(e.message));
  });
});
