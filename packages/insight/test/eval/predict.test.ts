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
import { runMain } from '../cli/io';
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

describe('predict on a folder with files that are not images (issue 18 item 6)', () => {
  let folder: string;
  before(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-predict-bad-'));
    for (const name of ['0000.jpg', '0001.jpg', '0002.jpg']) fs.copyFileSync(path.join(MINI, 'cat', name), path.join(folder, `a${name}`));
    const jpeg = fs.readFileSync(path.join(MINI, 'cat', '0003.jpg'));
    fs.writeFileSync(path.join(folder, 'b_torn.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    fs.writeFileSync(path.join(folder, 'c_empty.png'), Buffer.alloc(0));
  });

  it('reports each bad file with its reason and predicts the others, in order', async () => {
    const predictions = await predict({ model: modelDir, images: [folder], topK: 2 });
    assert.deepEqual(predictions.map((p) => path.basename(p.file)), ['a0000.jpg', 'a0001.jpg', 'a0002.jpg', 'b_torn.jpg', 'c_empty.png']);
    for (const p of predictions.slice(0, 3)) assert.ok(p.error === undefined && p.top.length === 2);
    assert.match(predictions[3].error!, /^cannot be decoded \(.*Premature end/);
    assert.equal(predictions[4].error, 'empty file (0 bytes)');
    assert.deepEqual([predictions[3].top, predictions[4].top], [[], []]);
    const [alone] = await predict({ model: modelDir, images: [path.join(folder, 'a0001.jpg')], topK: 2 });
    assert.deepEqual(predictions[1].top.map((t) => t.index), alone.top.map((t) => t.index), 'a bad neighbour in the batch changes nothing');
    predictions[1].top.forEach((t, k) => assert.ok(Math.abs(t.probability - alone.top[k].probability) < 1e-6)); // batch of 3 vs 1: rounding
  });

  it('--strict stops at the first bad file, as predict did before', async () => {
    await assert.rejects(predict({ model: modelDir, images: [folder], strict: true }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_IMAGE' && /Received: image=".*b_torn\.jpg", error=".*Premature end/.test(e.message));
  });

  it('insight predict: the table of the good files, the skipped ones on stderr; --json has them as {file, top: [], error}', async () => {
    const { status, stdout, stderr } = await runMain(['predict', modelDir, folder, '--top-k', '1']);
    assert.equal(status, 0, stderr);
    assert.equal(stdout.trim().split('\n').length, 2 + 3, 'header, rule and three images');
    assert.doesNotMatch(stdout, /b_torn|c_empty/);
    assert.match(stderr, /^Skipped 2 of 5 files that could not be read as images \(--strict stops at the first\):\n {2}.*b_torn\.jpg: cannot be decoded \(.*\)\n {2}.*c_empty\.png: empty file \(0 bytes\)\n$/);
    const json = await runMain(['predict', modelDir, folder, '--json']);
    const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 5);
    assert.deepEqual(lines[4], { file: path.join(folder, 'c_empty.png'), top: [], error: 'empty file (0 bytes)' });
    const strict = await runMain(['predict', modelDir, folder, '--strict']);
    assert.equal(strict.status, 3);
    assert.match(strict.stderr, /^Error INSIGHT_E_IMAGE: Every image must be a file sharp can decode/);
  });
});
