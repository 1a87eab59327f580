// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against synthetic run
// directories: the page loads without console errors, the table shows the runs on disk (metrics first) and sorts
// and filters, selecting runs overlays their curves in one panel per metric, several side by side (uPlot series and
// canvas checked; whole-number epoch ticks), the metric filter, smoothing and log scale redraw, a metric appended to
// a running run appears within seconds, mixed train and fine-tune runs show names, kinds and only the
// hyperparameters that apply, run pages show report and images and say why a run ended (failed, interrupted,
// crashed), and bad input (corrupt lines, missing files, a run deleted while open) gives a message, never a blank
// page. Screenshots are saved to test/track/artifacts/. Every wait is bounded and the browser is always closed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium, type Browser, type Page } from 'playwright-core';

import { startDashboard, type RunningDashboard } from '../../src/track/dashboard/server';
import { appendLine, epochRecord, tempRunsDir, writeRun } from './fixtures';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, 'artifacts');
const WAIT = { timeout: 8000 };

let runsDir: string;
let server: RunningDashboard;
let browser: Browser;
const pages: Page[] = [];
const liveRun = '20260103-000000-cccc';

/** A new page that records console errors and uncaught exceptions. */
async function openPage(hash = '', url?: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pages.push(page);
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(`${url ?? server.url}${hash}`);
  return { page, errors };
}

/** The chart of one metric's panel. */
const panel = (metric: string) => `#curves .panel[data-metric="${metric}"] .chart`;
const seriesCount = (page: Page, metric = 'val_accuracy') => page.locator(panel(metric)).getAttribute('data-series');
const panelCount = (page: Page) => page.locator('#curves').getAttribute('data-panels');

/** Pixels of the first two series colours (blue #1f77b4, red #d62728) on the canvas under `selector`. */
function linePixels(page: Page, selector: string): Promise<{ blue: number; red: number }> {
  return page.evaluate((s) => {
    const canvas = document.querySelector(`${s} canvas`) as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let blue = 0;
    let red = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i] < 60 && pixels[i + 1] > 100 && pixels[i + 2] > 160) blue++;
      if (pixels[i] > 190 && pixels[i + 1] < 70 && pixels[i + 2] < 70) red++;
    }
    return { blue, red };
  }, selector);
}

before(async () => {
  runsDir = tempRunsDir('insight-dash-browser-');
  await writeRun(runsDir, { id: '20260101-000000-aaaa', config: { optimizer: 'adam', lr: 0.001 }, epochs: 8, ceiling: 0.7, report: true, tags: ['baseline'] });
  await writeRun(runsDir, { id: '20260102-000000-bbbb', config: { optimizer: 'adamw', lr: 0.003 }, epochs: 8, ceiling: 0.8, createdAt: '2026-01-02T00:00:00.000Z' });
  await writeRun(runsDir, { id: liveRun, status: 'running', config: { optimizer: 'sgd', lr: 0.1 }, epochs: 2, ceiling: 0.85, createdAt: '2026-01-03T00:00:00.000Z' });
  server = await startDashboard({ runsDir, port: 0, host: '127.0.0.1' }, { pollMs: 200 });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await Promise.allSettled(pages.map((p) => p.close()));
  await browser?.close();
  await server?.close();
});

describe('dashboard in chromium', { timeout: 120_000 }, () => {
  it('loads without console errors and shows the runs on disk, hyperparameters as columns', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage();
    await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
    assert.deepEqual(await page.locator('#runs-table tbody tr[data-run]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.run)),
      [liveRun, '20260102-000000-bbbb', '20260101-000000-aaaa']);
    const headers = (await page.locator('#runs-table thead th').allTextContents()).map((t) => t.replace(/ [▾▴]$/, ''));
    assert.deepEqual(headers, ['', 'run', 'status', 'epochs', 'val_accuracy', 'val_loss', 'accuracy', 'loss', 'optimizer', 'lr', 'created', 'tags'], 'metrics first');
    assert.equal(await page.locator(`tr[data-run="${liveRun}"] .badge`).textContent(), 'running');
    assert.equal(await page.locator('tr[data-run="20260101-000000-aaaa"] .tag').textContent(), 'baseline');
    assert.equal(await page.locator('#runs-dir').textContent(), path.resolve(runsDir));
    assert.deepEqual(errors, []);
  });

  it('sorts by a clicked column (metrics best first) and filters by text or key=value', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage();
    await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
    const order = () => page.locator('#runs-table tbody tr[data-run]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.run!.slice(-4)));
    await page.click('#runs-table th:text-is("val_accuracy")');
    assert.deepEqual(await order(), ['bbbb', 'aaaa', 'cccc'], 'best val_accuracy first');
    await page.click('#runs-table th:has-text("val_accuracy")');
    assert.deepEqual(await order(), ['cccc', 'aaaa', 'bbbb']);
    await page.fill('#filter', 'optimizer=adamw');
    await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr[data-run]').length === 1, null, WAIT);
    assert.deepEqual(await order(), ['bbbb']);
    await page.fill('#filter', 'baseline');
    await page.waitForFunction(() => document.querySelector('#runs-table tbody tr[data-run]')?.getAttribute('data-run')?.endsWith('aaaa'), null, WAIT);
    await page.fill('#filter', 'optimiser=adam');
    await page.waitForSelector('#filter-error:not([hidden])', WAIT);
    assert.match(await page.textContent('#filter-error') ?? '', /A --where key must be a run column, a metric or a hyperparameter of some run\. Received: where="optimiser"/);
    // The 400 of the bad filter is logged by the browser as a failed resource; nothing else may be.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  });

  it('selecting two runs draws one panel per metric, several side by side, with whole-number epoch ticks; filter, smoothing, log scale and x axis redraw them', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage();
    await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
    assert.equal(await panelCount(page), '0');
    assert.match(await page.textContent('#curves') ?? '', /Select runs in the table/);
    await page.check('tr[data-run="20260101-000000-aaaa"] input[type=checkbox]');
    await page.check('tr[data-run="20260102-000000-bbbb"] input[type=checkbox]');
    await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_accuracy"] .chart')?.getAttribute('data-series') === '2', null, WAIT);
    // Every logged metric has its panel, headline metrics first.
    assert.deepEqual(await page.locator('#curves .panel').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.metric)),
      ['val_accuracy', 'val_loss', 'accuracy', 'loss', 'imagesPerSecond', 'lr', 'seconds']);
    assert.deepEqual(await page.locator('#curves .panel h3').allTextContents(), ['val_accuracy', 'val_loss', 'accuracy', 'loss', 'imagesPerSecond', 'lr', 'seconds']);
    for (const metric of ['val_accuracy', 'val_loss', 'accuracy', 'loss']) {
      await page.waitForFunction((m) => document.querySelector(`#curves .panel[data-metric="${m}"] .chart`)?.getAttribute('data-series') === '2', metric, WAIT);
      assert.equal(await page.locator(`${panel(metric)} canvas`).count(), 1, `uPlot drew ${metric} on a canvas`);
    }
    // Several panels at once: the first three share a row, side by side, each a usable size, all on one screen.
    await page.locator('#curves').scrollIntoViewIfNeeded();
    const boxes = await Promise.all(['val_accuracy', 'val_loss', 'accuracy', 'loss'].map((m) => page.locator(`#curves .panel[data-metric="${m}"]`).boundingBox()));
    assert.ok(boxes.every((b) => b && b.width > 300 && b.height > 200), JSON.stringify(boxes));
    assert.ok(Math.abs(boxes[0]!.y - boxes[1]!.y) < 1 && Math.abs(boxes[1]!.y - boxes[2]!.y) < 1, `one row: ${JSON.stringify(boxes)}`);
    assert.ok(boxes[0]!.x + boxes[0]!.width <= boxes[1]!.x && boxes[1]!.x + boxes[1]!.width <= boxes[2]!.x, 'side by side');
    assert.ok(boxes[3]!.y > boxes[0]!.y && boxes[3]!.y + boxes[3]!.height - boxes[0]!.y < 900, 'two rows of panels fit the 900 px viewport');
    // uPlot's legend lists x plus one entry per series.
    assert.deepEqual(await page.locator(`${panel('val_accuracy')} .u-legend .u-series th`).allTextContents(), ['epoch', '20260101-000000-aaaa', '20260102-000000-bbbb']);
    assert.equal(await page.locator(panel('val_accuracy')).getAttribute('data-points'), '16');
    // Epochs are counted in whole numbers: every tick is an integer (8 epochs: 1 ... 8).
    const ticks = (await page.locator(panel('val_accuracy')).getAttribute('data-x-ticks'))!.split(',').map(Number);
    assert.ok(ticks.length >= 3 && ticks.every(Number.isInteger) && ticks[0] >= 1 && ticks[ticks.length - 1] <= 8, `ticks ${ticks}`);
    // The canvas really has two coloured lines: sample its pixels for the two series colours.
    const colours = await linePixels(page, panel('val_accuracy'));
    assert.ok(colours.blue > 100 && colours.red > 100, `line pixels ${JSON.stringify(colours)}`);
    await page.fill('#metric-filter', '^val_');
    await page.waitForFunction(() => document.querySelector('#curves')?.getAttribute('data-panels') === '2', null, WAIT);
    assert.deepEqual(await page.locator('#curves .panel h3').allTextContents(), ['val_accuracy', 'val_loss']);
    await page.fill('#metric-filter', 'nothing-like-this');
    await page.waitForFunction(() => /No metric matches "nothing-like-this"/.test(document.querySelector('#curves')?.textContent ?? ''), null, WAIT);
    await page.fill('#metric-filter', '');
    await page.waitForFunction(() => document.querySelector('#curves')?.getAttribute('data-panels') === '7', null, WAIT);
    await page.locator('#smoothing').fill('0.9');
    assert.equal(await page.textContent('#smoothing-value'), '0.90');
    await page.check('#log-scale');
    await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_loss"] .u-legend .u-series th')?.textContent === 'epoch', null, WAIT);
    assert.equal(await seriesCount(page, 'val_loss'), '2');
    // A constant metric (lr) on a log scale is still drawn (it gets a decade around it).
    const deadline = Date.now() + 5000;
    let lr = await linePixels(page, panel('lr'));
    while (lr.red <= 50 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      lr = await linePixels(page, panel('lr'));
    }
    assert.ok(lr.red > 50, `lr line on the log scale: ${JSON.stringify(lr)}`);
    await page.selectOption('#x-axis', 'step');
    await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_loss"] .u-legend .u-series th')?.textContent === 'step', null, WAIT);
    assert.equal(await seriesCount(page, 'val_loss'), '2');
    const stepTicks = (await page.locator(panel('val_loss')).getAttribute('data-x-ticks'))!.split(',').map(Number);
    assert.ok(stepTicks.every(Number.isInteger) && stepTicks[stepTicks.length - 1] <= 80, `step ticks ${stepTicks}`);
    await page.selectOption('#x-axis', 'epoch');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard_panels.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  it('a metric appended to a running run appears within seconds, without reload; a corrupt line is a warning', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage();
    await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
    await page.check('tr[data-run="20260101-000000-aaaa"] input[type=checkbox]');
    await page.check('tr[data-run="20260102-000000-bbbb"] input[type=checkbox]');
    await page.check(`tr[data-run="${liveRun}"] input[type=checkbox]`);
    await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_accuracy"] .chart')?.getAttribute('data-series') === '3', null, WAIT);
    await page.waitForSelector(`#live .live-run[data-run="${liveRun}"]`, WAIT);
    // A run of 2 epochs still gets whole-number ticks (uPlot alone would tick at 1.2, 1.4 ...).
    const ticks = (await page.locator(panel('val_accuracy')).getAttribute('data-x-ticks'))!.split(',').map(Number);
    assert.ok(ticks.every(Number.isInteger), `ticks ${ticks}`);
    assert.match(await page.textContent('#live') ?? '', /epoch 2 · step 20/);
    const before = Number(await page.locator(panel('val_accuracy')).getAttribute('data-points'));
    const appended = Date.now();
    appendLine(path.join(runsDir, liveRun), epochRecord(3, 0.85));
    await page.waitForFunction(() => /epoch 3 · step 30/.test(document.querySelector('#live')?.textContent ?? ''), null, { timeout: 5000 });
    const seconds = (Date.now() - appended) / 1000;
    assert.ok(seconds < 5, `shown after ${seconds} s`);
    await page.waitForFunction((n) => Number(document.querySelector('#curves .panel[data-metric="val_accuracy"] .chart')?.getAttribute('data-points')) === n + 1, before, WAIT);
    assert.match(await page.textContent('#live') ?? '', /val_accuracy 0\.6603/);
    assert.match(await page.textContent('#connection') ?? '', /live/);
    appendLine(path.join(runsDir, liveRun), '{"type":"epoch","epoch":4,"val_accuracy":\n');
    await page.waitForSelector('#curves-note .warning', WAIT);
    assert.match(await page.textContent('#curves-note') ?? '', new RegExp(`${liveRun}: metrics\\.jsonl line 4 is not valid JSON and was skipped`));
    assert.equal(await seriesCount(page), '3', 'the curves stay');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  it('mixed train and fine-tune runs: names and kinds as columns, metrics first, only the hyperparameters that apply; names label the curves', { timeout: 30_000 }, async () => {
    const mixedDir = tempRunsDir('insight-dash-mixed-');
    await writeRun(mixedDir, { id: '20260201-000000-t1t1', kind: 'train', name: 'baseline', epochs: 3, ceiling: 0.6 });
    await writeRun(mixedDir, { id: '20260202-000000-t2t2', kind: 'train', config: { optimizer: 'sgd', lr: 0.1 }, epochs: 3, ceiling: 0.7, createdAt: '2026-02-02T00:00:00.000Z' });
    await writeRun(mixedDir, { id: '20260203-000000-f1f1', kind: 'finetune', name: 'lora r8', config: { method: 'lora', rank: 8 }, epochs: 2, createdAt: '2026-02-03T00:00:00.000Z' });
    await writeRun(mixedDir, { id: '20260204-000000-f2f2', kind: 'finetune', config: { method: 'full' }, epochs: 2, createdAt: '2026-02-04T00:00:00.000Z' });
    await writeRun(mixedDir, { id: '20260205-000000-f3f3', kind: 'finetune', config: { method: 'lora' }, epochs: 2, createdAt: '2026-02-05T00:00:00.000Z' });
    const mixed = await startDashboard({ runsDir: mixedDir, port: 0, host: '127.0.0.1' }, { pollMs: 200 });
    try {
      const { page, errors } = await openPage('', mixed.url);
      await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
      const headers = (await page.locator('#runs-table thead th').allTextContents()).map((t) => t.replace(/ [▾▴]$/, ''));
      assert.deepEqual(headers.slice(0, 10), ['', 'run', 'name', 'kind', 'status', 'epochs', 'val_accuracy', 'val_loss', 'accuracy', 'loss']);
      assert.deepEqual(headers.slice(-2), ['created', 'tags']);
      const params = headers.slice(10, -2);
      assert.ok(params.length <= 8, `a few hyperparameters, not both commands' ~60 keys: ${params.join(', ')}`);
      for (const key of ['optimizer', 'lr', 'method', 'rank']) assert.ok(params.includes(key), `${key} in ${params.join(', ')}`);
      for (const key of ['beta1', 'momentum', 'adapterBottleneck', 'runsDir', 'base']) assert.ok(!params.includes(key), `${key} not shown`);
      const cell = async (id: string, column: string) => (await page.locator(`tr[data-run="${id}"] td`).nth(headers.indexOf(column)).textContent())?.trim();
      assert.equal(await cell('20260203-000000-f1f1', 'name'), 'lora r8');
      assert.equal(await cell('20260203-000000-f1f1', 'kind'), 'finetune');
      assert.equal(await cell('20260203-000000-f1f1', 'rank'), '8');
      assert.equal(await cell('20260204-000000-f2f2', 'rank'), '-', 'a full fine-tune has no LoRA rank');
      assert.equal(await cell('20260201-000000-t1t1', 'method'), '-');
      // The metric columns are on screen without scrolling the table.
      const loss = await page.locator('#runs-table thead th', { hasText: /^loss/ }).boundingBox();
      assert.ok(loss && loss.x + loss.width < 1280, `loss column at ${JSON.stringify(loss)}`);
      await page.click('#runs-table th:text-is("name")');
      assert.equal(await page.locator('#runs-table tbody tr[data-run]').first().getAttribute('data-run'), '20260201-000000-t1t1', 'baseline sorts first');
      await page.fill('#filter', 'kind=finetune');
      await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr[data-run]').length === 3, null, WAIT);
      assert.ok(!(await page.locator('#runs-table thead th').allTextContents()).includes('kind'), 'one kind: no kind column');
      await page.fill('#filter', '');
      await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr[data-run]').length === 5, null, WAIT);
      await page.check('tr[data-run="20260201-000000-t1t1"] input[type=checkbox]');
      await page.check('tr[data-run="20260203-000000-f1f1"] input[type=checkbox]');
      await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_accuracy"] .chart')?.getAttribute('data-series') === '2', null, WAIT);
      assert.deepEqual(await page.locator(`${panel('val_accuracy')} .u-legend .u-series th`).allTextContents(), ['epoch', 'baseline', 'lora r8']);
      const ticks = (await page.locator(panel('val_accuracy')).getAttribute('data-x-ticks'))!.split(',').map(Number);
      assert.ok(ticks.every(Number.isInteger) && ticks.includes(1) && ticks.includes(2), `ticks ${ticks}`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard_mixed.png'), fullPage: true });
      await page.click('a[href="#/run/20260203-000000-f1f1"]');
      await page.waitForSelector('#run-name', WAIT);
      assert.equal(await page.textContent('#run-name'), 'lora r8');
      assert.match(await page.textContent('#run-body') ?? '', /fine-tune run · created 2026-02-03 00:00 UTC/);
      assert.deepEqual(errors, []);
    } finally {
      await mixed.close();
    }
  });

  it('a run page shows status, curves, metrics, config, the confusion matrix, per-class metrics and sample predictions', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage();
    await page.waitForSelector('#runs-table tbody tr[data-run]', WAIT);
    await page.click('a[href="#/run/20260101-000000-aaaa"]');
    await page.waitForSelector('#confusion-image', WAIT);
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll('#confusion-image, #predictions-image')] as HTMLImageElement[];
      return images.length === 2 && images.every((img) => img.complete && img.naturalWidth > 0);
    }, null, WAIT);
    assert.equal(await page.textContent('#run-status'), 'completed');
    assert.deepEqual(await page.locator('#per-class tbody td:first-child').allTextContents(), ['cat', 'dog', 'ship']);
    assert.match(await page.textContent('#report-section') ?? '', /loss 0\.6100 · accuracy 0\.8000 · top-5 1\.0000/);
    assert.match(await page.textContent('#config') ?? '', /optimizeradam/);
    await page.waitForFunction(() => document.querySelector('#loss-chart')?.getAttribute('data-series') === '2', null, WAIT);
    assert.equal(await page.locator('#accuracy-chart').getAttribute('data-series'), '2');
    await page.screenshot({ path: path.join(ARTIFACTS, 'run.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  it('a run without report files draws its confusion matrix from metrics.json; a broken run lists its problems', { timeout: 30_000 }, async () => {
    const dir = await writeRun(runsDir, { id: '20260104-000000-dddd', report: true, createdAt: '2026-01-04T00:00:00.000Z' });
    fs.rmSync(path.join(dir, 'report', 'confusion.png'));
    fs.rmSync(path.join(dir, 'run.json'));
    appendLine(dir, 'garbage\n');
    const { page, errors } = await openPage('#/run/20260104-000000-dddd');
    await page.waitForSelector('#confusion-table', WAIT);
    assert.equal(await page.locator('#confusion-table tbody tr').count(), 3);
    assert.match(await page.textContent('#problems') ?? '', /run\.json is missing/);
    assert.match(await page.textContent('#problems') ?? '', /metrics\.jsonl line 4 is not valid JSON and was skipped: garbage/);
    assert.equal(await page.textContent('#run-status'), 'unknown');
    await page.goto(`${server.url}#/`);
    await page.waitForSelector('tr[data-run="20260104-000000-dddd"] .warn-dot', WAIT);
    assert.deepEqual(errors, []);
  });

  it('a run deleted while open says so (run page and runs table); an unknown run is a message, not a blank page', { timeout: 30_000 }, async () => {
    const doomed = await writeRun(runsDir, { id: '20260105-000000-eeee', status: 'running', createdAt: '2026-01-05T00:00:00.000Z' });
    const { page, errors } = await openPage('#/run/20260105-000000-eeee');
    await page.waitForSelector('#loss-chart[data-series="2"]', WAIT);
    fs.rmSync(doomed, { recursive: true });
    await page.waitForSelector('#run-gone', WAIT);
    assert.match(await page.textContent('#run-gone') ?? '', /Run 20260105-000000-eeee was deleted while this page was open/);
    assert.equal(await page.locator('#loss-chart canvas').count(), 1, 'the last state stays visible');

    const second = await writeRun(runsDir, { id: '20260106-000000-ffff', createdAt: '2026-01-06T00:00:00.000Z' });
    await page.goto(`${server.url}#/`);
    await page.check('tr[data-run="20260106-000000-ffff"] input[type=checkbox]', WAIT);
    await page.waitForFunction(() => document.querySelector('#curves .panel[data-metric="val_accuracy"] .chart')?.getAttribute('data-series') === '1', null, WAIT);
    fs.rmSync(second, { recursive: true });
    await page.waitForSelector('#notices .notice', WAIT);
    assert.match(await page.textContent('#notices') ?? '', /Run 20260106-000000-ffff was deleted; it is no longer shown\./);
    await page.waitForFunction(() => !document.querySelector('tr[data-run="20260106-000000-ffff"]'), null, WAIT);
    await page.waitForFunction(() => document.querySelector('#curves')?.getAttribute('data-panels') === '0', null, WAIT);

    await page.goto(`${server.url}#/run/no-such-run`);
    await page.waitForSelector('#run-gone', WAIT);
    assert.match(await page.textContent('#run-gone') ?? '', /Run no-such-run does not exist \(it may have been deleted\)\./);
    // The 404s of the API for the vanished runs are logged by the browser as failed resources; nothing else may be.
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), []);
  });

  it('a run page says why a run ended by its status: failed, interrupted (Ctrl-C), crashed (its process gone)', { timeout: 30_000 }, async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const heartbeatAt = new Date().toISOString();
    const ended = [
      { id: '20260107-000000-f001', status: 'failed', error: 'Out of memory.', label: 'failed', text: 'Failed: Out of memory.' },
      { id: '20260107-000000-f002', status: 'interrupted', error: 'Training stops at SIGINT or SIGTERM ...', label: 'interrupted',
        text: 'Interrupted: Training stops at SIGINT or SIGTERM ...' },
      { id: '20260107-000000-f003', status: 'running', pid: dead, host: os.hostname(), heartbeatAt, label: 'crashed',
        text: `Crashed: The training process (pid ${dead} on ${os.hostname()}) ended without a word; last heartbeat ${heartbeatAt}.` },
    ];
    for (const { id, status, error, pid, host, heartbeatAt: beat } of ended) {
      const dir = await writeRun(runsDir, { id, status: 'running', createdAt: '2026-01-07T00:00:00.000Z' });
      const runJson = path.join(dir, 'run.json');
      fs.writeFileSync(runJson, JSON.stringify({ ...JSON.parse(fs.readFileSync(runJson, 'utf8')), status, error, pid, host, heartbeatAt: beat }));
    }
    for (const { id, label, text } of ended) {
      const { page, errors } = await openPage(`#/run/${id}`);
      await page.waitForSelector('#run-error', WAIT);
      assert.equal(await page.textContent('#run-status'), label);
      assert.equal(await page.textContent('#run-error'), text);
      if (label === 'crashed') {
        await page.screenshot({ path: path.join(ARTIFACTS, 'run_crashed.png') });
        // The stream and the page agree the run crashed, so a record appended now redraws the curves without reloading
        // the run (a status mismatch reloaded it, and restarted its explanations panel, on every record).
        const loads: string[] = [];
        page.on('request', (request) => {
          if (new URL(request.url()).pathname === `/api/runs/${id}`) loads.push(request.url());
        });
        for (const epoch of [4, 5]) {
          appendLine(path.join(runsDir, id), epochRecord(epoch));
          await page.waitForSelector(`#loss-chart[data-points="${2 * epoch}"]`, WAIT);
        }
        assert.equal(await page.textContent('#run-status'), 'crashed');
        assert.deepEqual(loads, [], 'no reload of the run for records appended after it crashed');
      }
      assert.deepEqual(errors, []);
    }
  });
});
