// The run page's explanations panel, on a real run: a tiny conv net saved as the run's model, trained on a tiny
// CIFAR-10 folder (10 images, the last 4 for validation). The API computes the panel on the first request (202,
// then ready), stores it in the run's explain/ folder with decodable PNGs, builds the memory index, answers from the
// store afterwards and computes again when the model changes; predictions match the model, neighbours are training
// images, nearest first; a fine-tuning run shows its held-out images; runs without a model or without their data and
// unknown files give messages, not crashes.
// Then chromium renders the panel: loading state, then the images.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { setInsightMetadata } from '../../src/models/metadata';
import { overlayLayout } from '../../src/explain/render/overlay';
import { stripLayout } from '../../src/explain/render/neighbour_strip';
import { saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { buildDashboard, startDashboard, type RunningDashboard } from '../../src/track/dashboard/server';
import { RunIndex } from '../../src/track/run_index';
import { CLASS_NAMES, pixel, tempDir, writeTinyCifar } from '../data/helpers';
import { tempRunsDir, writeRun } from './fixtures';

const CHROMIUM = '/usr/bin/chromium';
const RUN = '20260201-000000-expl';

let runsDir: string;
let data: string;
let index: RunIndex;
let app: FastifyInstance;

/** seed-cnn in miniature: conv → pool → flatten → dense (the embedding) → logits over CIFAR-10's classes. */
function tinyCifarModel(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  const model = tfl.sequential({
    name: 'tiny_cifar',
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: init(seed) }),
      tfl.layers.maxPooling2d({ poolSize: 4, name: 'pool' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 8, activation: 'relu', name: 'dense1', kernelInitializer: init(seed + 1) }),
      tfl.layers.dense({ units: 10, name: 'logits', kernelInitializer: init(seed + 2) }),
    ],
  });
  setInsightMetadata(model, { formatVersion: 1, architecture: 'tiny-cifar', architectureOptions: {}, inputShape: [32, 32, 3], classNames: CLASS_NAMES, normalization: { kind: 'scale' } });
  return model;
}

async function saveRunModel(dir: string, seed: number): Promise<void> {
  const model = tinyCifarModel(seed);
  await saveModel(model, RunDir.at(dir).modelDir);
  model.dispose();
}

/** Polls the panel until it is no longer computing (bounded). */
async function panelOf(id: string, query = ''): Promise<{ statusCode: number; body: Record<string, unknown> & { samples?: Sample[] } }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await app.inject(`/api/runs/${id}/explanations${query}`);
    if (res.statusCode !== 202) return { statusCode: res.statusCode, body: res.json() };
    assert.equal(res.json().status, 'computing');
    assert.ok(Date.now() < deadline, 'the panel was computed within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
    query = '';
  }
}

interface Sample {
  index: number;
  label: string;
  predicted: string;
  probability: number;
  overlays: Record<string, string>;
  neighbours: { index: number; label: string; distance: number }[];
  neighboursImage: string;
}

before(async () => {
  await initBackend();
  runsDir = tempRunsDir('insight-dash-explain-');
  data = writeTinyCifar(tempDir());
  const dir = await writeRun(runsDir, { id: RUN, config: { data, dataset: 'cifar10', limit: null, validationCount: 4 }, report: true });
  await saveRunModel(dir, 11);
  await writeRun(runsDir, { id: 'no-model', status: 'running' });
  const tuned = await writeRun(runsDir, { id: 'finetuned', config: { base: 'runs/base/model', data } });
  await saveRunModel(tuned, 3);
  const lost = await writeRun(runsDir, { id: 'no-data', config: { data: path.join(data, 'gone'), dataset: 'cifar10' } });
  await saveRunModel(lost, 4);
  index = RunIndex.open(runsDir);
  app = buildDashboard({ runsDir, index, pollMs: 50, heartbeatMs: 1000 });
});

after(async () => {
  await app.close();
  index.close();
});

describe('dashboard explanations API', () => {
  it('computes the panel on the first request (202 computing, then ready) and stores it in the run', { timeout: 60_000 }, async () => {
    const tensors = tf.memory().numTensors;
    const first = await app.inject(`/api/runs/${RUN}/explanations`);
    assert.equal(first.statusCode, 202);
    assert.equal(first.json().status, 'computing');
    const { statusCode, body } = await panelOf(RUN);
    assert.equal(statusCode, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.equal(body.split, 'validation (last 4 of 10 images)');
    assert.deepEqual(body.methods, ['gradcam', 'ig']);
    assert.deepEqual(body.memory, { layer: 'dense1', count: 6, built: true });
    const samples = body.samples!;
    assert.deepEqual(samples.map((s) => s.index), [0, 1, 2, 3], 'the 4 validation images (at most 6, spread over the split)');
    assert.deepEqual(samples.map((s) => s.label), CLASS_NAMES.slice(6, 10), 'validation = images 6..9, whose labels are their positions');

    // Predictions are the model's on those images.
    const model = tinyCifarModel(11);
    const pixels = Float32Array.from({ length: 4 * 3072 }, (_, i) => pixel(6 + Math.floor(i / 3072), Math.floor((i % 3072) / 3), i % 3) / 255);
    const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(pixels, [4, 32, 32, 3])) as tf.Tensor2D).arraySync() as number[][]);
    model.dispose();
    samples.forEach((s, i) => {
      const best = probs[i].indexOf(Math.max(...probs[i]));
      assert.equal(s.predicted, CLASS_NAMES[best], `sample ${i}`);
      assert.ok(Math.abs(s.probability - probs[i][best]) < 1e-5, `sample ${i} probability`);
      assert.equal(s.neighbours.length, 5);
      assert.ok(s.neighbours.every((n) => n.index >= 0 && n.index < 6 && n.label === CLASS_NAMES[n.index]), 'neighbours are training images 0..5 with their labels');
      assert.ok(s.neighbours.every((n, j) => n.distance >= -1e-6 && n.distance <= 2 && (j === 0 || n.distance >= s.neighbours[j - 1].distance - 1e-6)), 'nearest first');
      assert.equal(new Set(s.neighbours.map((n) => n.index)).size, 5, 'distinct neighbours');
    });

    // Every picture is served and decodes to the size its renderer draws.
    const overlay = overlayLayout(32, 32);
    const strip = stripLayout(1, 5);
    for (const s of samples) {
      for (const [url, size] of [[s.overlays.gradcam, overlay], [s.overlays.ig, overlay], [s.neighboursImage, strip]] as const) {
        const res = await app.inject(url);
        assert.equal(res.statusCode, 200, url);
        assert.equal(res.headers['content-type'], 'image/png');
        const meta = await sharp(res.rawPayload).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['png', size.width, size.height], url);
      }
    }
    const run = RunDir.at(path.join(runsDir, RUN));
    assert.ok(fs.existsSync(run.explainPanelJson), 'stored in the run');
    assert.equal(fs.readdirSync(run.explainPanelDir).filter((f) => f.endsWith('.png')).length, 4 * 3);
    assert.ok(fs.existsSync(run.memoryJson), 'the memory index is stored in the run');
    assert.equal(tf.memory().numTensors, tensors, 'computing the panel leaves no tensor behind');
  });

  it('answers from the store afterwards, and computes again when the model changes', { timeout: 60_000 }, async () => {
    const stored = await app.inject(`/api/runs/${RUN}/explanations`);
    assert.equal(stored.statusCode, 200);
    const computedAt = stored.json().computedAt;
    // A second dashboard on the same runs directory reads the stored panel too.
    const otherIndex = RunIndex.open(runsDir);
    const other = buildDashboard({ runsDir, index: otherIndex, pollMs: 50, heartbeatMs: 1000 });
    try {
      assert.equal((await other.inject(`/api/runs/${RUN}/explanations`)).json().computedAt, computedAt);
    } finally {
      await other.close();
      otherIndex.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    await saveRunModel(path.join(runsDir, RUN), 12);
    assert.equal((await app.inject(`/api/runs/${RUN}/explanations`)).statusCode, 202, 'a new model is explained again');
    const { body } = await panelOf(RUN);
    assert.equal(body.status, 'ready');
    assert.notEqual(body.computedAt, computedAt);
    assert.deepEqual(body.memory, { layer: 'dense1', count: 6, built: true }, 'the memory index was rebuilt for the new weights');
  });

  it('a fine-tuning run shows its held-out images (found again as fine-tuning chose them)', { timeout: 60_000 }, async () => {
    const { statusCode, body } = await panelOf('finetuned');
    assert.equal(statusCode, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready', JSON.stringify(body));
    assert.equal(body.split, 'held-out (last 1 of 10 images: 1 images)');
    assert.deepEqual(body.samples!.map((s) => [s.index, s.label]), [[0, CLASS_NAMES[9]]], 'the held-out image is record 9');
    assert.deepEqual(body.memory, { layer: 'dense1', count: 9, built: true }, 'neighbours among the 9 images it was tuned on');
  });

  it('a run without a model, a run whose data is gone, unknown runs and unlisted files answer with messages', { timeout: 30_000 }, async () => {
    const none = await app.inject('/api/runs/no-model/explanations');
    assert.equal(none.statusCode, 200);
    assert.deepEqual(none.json(), {
      status: 'unavailable', code: 'INSIGHT_E_MODEL',
      message: 'Explanations need the run\'s final model, written when training completes. Received: run="no-model". Open the run page again once the run has completed.',
    });
    const { body } = await panelOf('no-data');
    assert.equal(body.status, 'failed');
    assert.equal(body.code, 'INSIGHT_E_DATA');
    assert.match(String(body.message), /^The data path must exist\. Received: data=".*gone"\./);
    assert.equal((await app.inject('/api/runs/no-data/explanations')).json().status, 'failed', 'a failure is remembered, not retried on every poll');
    assert.equal((await app.inject('/api/runs/no-data/explanations?retry=1')).statusCode, 202, '?retry=1 tries again');
    assert.equal((await panelOf('no-data')).body.status, 'failed');
    const missing = await app.inject('/api/runs/nope/explanations');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'INSIGHT_E_RUN_NOT_FOUND');
    for (const file of ['panel.json', 'x.png', encodeURIComponent('../config.json'), '0_gradcam.png.bak']) {
      const res = await app.inject(`/api/runs/${RUN}/explanations/${file}`);
      assert.equal(res.statusCode, 404, file);
      assert.equal(res.json().code, 'INSIGHT_E_RUN_NOT_FOUND');
    }
    assert.equal((await app.inject(`/api/runs/${RUN}/explanations/0_gradcam.png`)).statusCode, 200);
  });
});

describe('dashboard explanations in chromium', { timeout: 90_000 }, () => {
  let server: RunningDashboard;
  let browser: Browser;
  const id = '20260202-000000-brws';

  before(async () => {
    const dir = await writeRun(runsDir, { id, config: { data, dataset: 'cifar10', limit: null, validationCount: 4 }, report: true, createdAt: '2026-02-02T00:00:00.000Z' });
    await saveRunModel(dir, 21);
    server = await startDashboard({ runsDir, port: 0, host: '127.0.0.1' }, { pollMs: 200 });
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a loading state, then the validation images with their overlays and neighbours', { timeout: 60_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    try {
      await page.goto(`${server.url}#/run/${id}`);
      await page.waitForSelector('#explanations-loading', { timeout: 8000 });
      assert.match(await page.textContent('#explanations-loading') ?? '', /Computing explanations/);
      await page.waitForSelector('#explanations', { timeout: 40_000 });
      await page.waitForFunction(() => {
        const images = [...document.querySelectorAll('#explanations img')] as HTMLImageElement[];
        return images.length === 12 && images.every((img) => img.complete && img.naturalWidth > 0);
      }, null, { timeout: 10_000 });
      assert.equal(await page.getAttribute('#explanations', 'data-samples'), '4');
      assert.deepEqual(await page.locator('#explanations .explain-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.index)), ['0', '1', '2', '3']);
      assert.deepEqual(await page.locator('.explain-row').first().locator('img.explain-overlay').evaluateAll((imgs) => imgs.map((i) => (i as HTMLElement).dataset.method)), ['gradcam', 'ig']);
      const sizes = await page.locator('#explanations img.explain-overlay').evaluateAll((imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
      const layout = overlayLayout(32, 32);
      assert.ok(sizes.every(([w, hgt]) => w === layout.width && hgt === layout.height), JSON.stringify(sizes));
      assert.match(await page.textContent('#explanations') ?? '', /4 images of the validation \(last 4 of 10 images\)/);
      assert.match(await page.textContent('.explain-row') ?? '', /^validation #0true: frog/);
      await page.locator('#explanations-section').screenshot({ path: path.join(__dirname, 'artifacts', 'explanations.png') });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
