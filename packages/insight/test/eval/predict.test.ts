// predict on real JPEG files (the shared cifar10-jpg-mini images): preprocessing from the model's metadata,
// top-k with probabilities, folders expanded, and errors for missing or broken images.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { predict } from '../../src/eval/predict';
import { createModel } from '../../src/models';
import { saveModel } from '../../src/run/model_io';
import { JPG_MINI } from '../shared_data';

const MINI = JPG_MINI;
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
let modelDir: string;
const normalization = { kind: 'meanstd' as const, mean: [0.49, 0.48, 0.45] as [number, number, number], std: [0.25, 0.24, 0.26] as [number, number, number] };

before(async () => {
  await initBackend();
  modelDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-predict-')), 'model');
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, classNames: CLASSES, normalization, seed: 3 });
  await saveModel(model, modelDir);
  model.dispose();
});

describe('predict', () => {
  it('returns the top-k classes, most probable first, computed from the model\'s own preprocessing', async () => {
    const file = path.join(MINI, 'cat', fs.readdirSync(path.join(MINI, 'cat')).sort()[0]);
    const [prediction] = await predict({ model: modelDir, images: [file], topK: 3 });
    assert.equal(prediction.file, file);
    assert.equal(prediction.top.length, 3);
    const p = prediction.top.map((t) => t.probability);
    assert.ok(p[0] >= p[1] && p[1] >= p[2] && p.every((v) => v > 0 && v < 1));
    for (const t of prediction.top) assert.equal(t.className, CLASSES[t.index]);

    // The same numbers by hand: decode → (x/255 - mean)/std → model → softmax.
    const { data } = await sharp(file).removeAlpha().toColourspace('srgb').resize(32, 32, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const x = Float32Array.from(data, (v, i) => (v / 255 - normalization.mean[i % 3]) / normalization.std[i % 3]);
    const { loadModel } = await import('../../src/run/model_io');
    const model = await loadModel(modelDir);
    const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [1, 32, 32, 3])) as tf.Tensor2D).dataSync());
    model.dispose();
    for (const t of prediction.top) assert.ok(Math.abs(probs[t.index] - t.probability) < 1e-5, `${t.className}: ${probs[t.index]} vs ${t.probability}`);
  });

  it('expands folders into their images (sorted)', async () => {
    const predictions = await predict({ model: modelDir, images: [path.join(MINI, 'ship')], topK: 1 });
    const expected = fs.readdirSync(path.join(MINI, 'ship')).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(MINI, 'ship', f));
    assert.deepEqual(predictions.map((p) => p.file), expected);
    assert.ok(predictions.every((p) => p.top.length === 1));
  });

  it('missing and undecodable images are INSIGHT_E_IMAGE', async () => {
    await assert.rejects(predict({ model: modelDir, images: ['/nonexistent/cat.jpg'] }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_IMAGE' && e.message === 'Every image path must exist. Received: image="/nonexistent/cat.jpg". Check the path (files or folders of images).');
    const broken = path.join(os.tmpdir(), `insight-broken-${process.pid}.jpg`);
    fs.writeFileSync(broken, 'not a jpeg');
    await assert.rejects(predict({ model: modelDir, images: [broken] }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_IMAGE' && /^Every image must be a file sharp can decode .* Received: image=".*broken.*", error=".*"\. Remove or replace that file\.$/.test(e.message));
  });
});
