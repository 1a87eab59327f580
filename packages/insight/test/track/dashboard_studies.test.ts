// The dashboard's study view (`insight tune` studies), on a real SQLite study storage written through the storage
// API (trials completed, pruned, failed and running, with their runs in the runs directory): GET /api/studies and
// /api/studies/<name> (counts, best trial, best-so-far curve, parallel-coordinate axes, trials linked to their runs;
// 404 for an unknown study; found as <runs dir>/tune.db or given by --storage; none without either), then the pages
// in chromium: the studies list, the best-so-far chart (uPlot), parallel coordinates as SVG (one axis per parameter
// and the metric, lines coloured worst to best, the pruned one dashed) and the trials table linking to run pages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium, type Browser, type Page } from 'playwright-core';

import { openStudyStorage } from '../../src/study/open_storage';
import { startDashboard, type RunningDashboard } from '../../src/track/dashboard/server';
import { tempRunsDir, writeRun } from './fixtures';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, 'artifacts');
const WAIT = { timeout: 8000 };
const SPACE = { lr: { type: 'float', low: 1e-4, high: 1e-1, log: true }, optimizer: ['adam', 'sgd'] };
/** number → params, the epochs' values, and how it ends (null: still running). */
const TRIALS: [Record<string, string | number>, number[], 'completed' | 'pruned' | 'failed' | null][] = [
  [{ lr: 0.001, optimizer: 'adam' }, [0.5, 0.6, 0.62], 'completed'],
  [{ lr: 0.05, optimizer: 'sgd' }, [0.4], 'pruned'],
  [{ lr: 0.003, optimizer: 'sgd' }, [0.55, 0.7, 0.71], 'completed'],
  [{ lr: 0.0002, optimizer: 'adam' }, [0.3, 0.45, 0.5], 'completed'],
  [{ lr: 0.02, optimizer: 'adam' }, [], 'failed'],
  [{ lr: 0.01, optimizer: 'sgd' }, [0.52], null],
];
const runId = (n: number) => `20260101-00000${n}-t00${n}`;

let runsDir: string;
let dbFile: string;
let server: RunningDashboard;
let browser: Browser;
const pages: Page[] = [];

async function writeStudies(): Promise<void> {
  const storage = await openStudyStorage(`sqlite:${dbFile}`);
  try {
    const base = { sampler: { name: 'tpe', seed: 0 }, pruner: { name: 'asha' }, baseConfig: { epochs: 3 } };
    const demo = await storage.createStudy({ name: 'demo', metric: 'val_accuracy', direction: 'maximize', space: SPACE, maxTrials: 8, ...base });
    for (const [number, [params, values, end]] of TRIALS.entries()) {
      const trial = await storage.createTrial(demo.id, params, 'worker-a');
      assert.equal(trial?.number, number);
      await writeRun(runsDir, { id: runId(number), status: end === null ? 'running' : end === 'failed' ? 'failed' : 'completed', epochs: values.length,
        config: params, tags: ['study:demo', `trial:${number}`] });
      await storage.heartbeat(trial.id, 'worker-a', path.join(runsDir, runId(number)));
      for (const [i, value] of values.entries()) await storage.reportIntermediate(trial.id, i + 1, value);
      if (end !== null) await storage.finishTrial(trial.id, 'worker-a', end, values.length ? values[values.length - 1] : null, end === 'failed' ? 'boom' : undefined);
    }
    const other = await storage.createStudy({ name: 'other', metric: 'val_loss', direction: 'minimize', space: { lr: [0.1, 0.01] }, maxTrials: 2, ...base });
    const trial = await storage.createTrial(other.id, { lr: 0.1 }, 'worker-b');
    await storage.reportIntermediate(trial!.id, 1, 0.9);
    await storage.finishTrial(trial!.id, 'worker-b', 'completed', 0.9);
  } finally {
    await storage.close();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field below
type Json = any;

async function get(url: string, dashboard = server): Promise<{ status: number; body: Json }> {
  const response = await dashboard.app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.json() };
}

async function openPage(hash: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pages.push(page);
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(`${server.url}${hash}`);
  return { page, errors };
}

before(async () => {
  runsDir = tempRunsDir('insight-dash-studies-');
  dbFile = path.join(runsDir, 'tune.db');
  await writeStudies();
  server = await startDashboard({ runsDir, port: 0, host: '127.0.0.1' }, { pollMs: 200 });
});

after(async () => {
  await Promise.allSettled(pages.map((p) => p.close()));
  await browser?.close();
  await server?.close();
});

describe('study API', () => {
  it('lists the studies of <runs dir>/tune.db with counts and best trials', async () => {
    const { status, body } = await get('/api/studies');
    assert.equal(status, 200);
    assert.equal(body.storage, `sqlite:${dbFile}`);
    assert.deepEqual(body.studies.map((s: { name: string }) => s.name), ['demo', 'other']);
    const [demo, other] = body.studies;
    assert.deepEqual(demo.counts, { waiting: 0, running: 1, paused: 0, completed: 3, pruned: 1, failed: 1 });
    assert.deepEqual(demo.best, { number: 2, value: 0.71, params: { lr: 0.003, optimizer: 'sgd' } });
    assert.deepEqual([demo.metric, demo.direction, demo.maxTrials, demo.sampler.name, demo.pruner.name], ['val_accuracy', 'maximize', 8, 'tpe', 'asha']);
    assert.deepEqual([other.direction, other.best.value], ['minimize', 0.9]);
  });

  it('gives one study\'s trials, best-so-far curve and parallel-coordinate axes', async () => {
    const { status, body } = await get('/api/studies/demo');
    assert.equal(status, 200);
    assert.deepEqual(body.bestSoFar, [{ number: 0, value: 0.62, best: 0.62 }, { number: 2, value: 0.71, best: 0.71 }, { number: 3, value: 0.5, best: 0.71 }]);
    assert.deepEqual(body.axes, [{ name: 'lr', kind: 'numeric', log: true, choices: [] }, { name: 'optimizer', kind: 'categorical', log: false, choices: ['adam', 'sgd'] }]);
    assert.deepEqual(body.trials.map((t: { number: number; state: string; value: number | null; epochs: number; runId: string }) => [t.number, t.state, t.value, t.epochs, t.runId]), [
      [0, 'completed', 0.62, 3, runId(0)], [1, 'pruned', 0.4, 1, runId(1)], [2, 'completed', 0.71, 3, runId(2)], [3, 'completed', 0.5, 3, runId(3)],
      [4, 'failed', null, 0, runId(4)], [5, 'running', null, 1, runId(5)],
    ]);
    assert.equal(body.trials[4].error, 'boom');
    assert.deepEqual(body.trials[2].intermediate, [{ step: 1, value: 0.55 }, { step: 2, value: 0.7 }, { step: 3, value: 0.71 }]);
    assert.deepEqual(body.study.space, SPACE);
  });

  it('answers 404 for an unknown study; an explicit --storage is read; no storage gives an empty list', async () => {
    const missing = await get('/api/studies/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'SERVE_E_NOT_FOUND');
    assert.match(missing.body.message, /A study page needs a study of the dashboard's study storage\.[\s\S]*Received: study="nope"/);

    const elsewhere = tempRunsDir('insight-dash-nostudy-');
    const given = await startDashboard({ runsDir: elsewhere, port: 0, host: '127.0.0.1', storage: `sqlite:${dbFile}` });
    const none = await startDashboard({ runsDir: elsewhere, port: 0, host: '127.0.0.1' });
    try {
      assert.deepEqual((await get('/api/studies', given)).body.studies.map((s: { name: string }) => s.name), ['demo', 'other']);
      assert.equal((await get('/api/studies/demo', given)).body.trials[0].runId, null, 'a run outside the runs directory has no page here');
      assert.deepEqual((await get('/api/studies', none)).body, { storage: null, studies: [] });
      assert.equal(fs.existsSync(path.join(elsewhere, 'tune.db')), false, 'the dashboard creates no storage');
    } finally {
      await given.close();
      await none.close();
    }
  });
});

describe('study pages in chromium', { timeout: 120_000 }, () => {
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  it('lists the studies and opens one', { timeout: 30_000 }, async () => {
    const { page, errors } = await openPage('#/');
    await page.click('#nav-studies');
    await page.waitForSelector('#studies tbody tr', WAIT);
    assert.deepEqual(await page.locator('#studies tbody tr td:first-child').allTextContents(), ['demo', 'other']);
    assert.deepEqual(await page.locator('#studies tbody tr:first-child td').allTextContents(), ['demo', 'maximize val_accuracy', 'tpe', 'asha', '5/8', '0.7100']);
    await page.click('#studies a[href="#/study/demo"]');
    await page.waitForSelector('#parallel-coordinates', WAIT);
    assert.deepEqual(errors, []);
  });

  it('draws the best-so-far curve, parallel coordinates coloured by value, and the trials linking to their runs', { timeout: 40_000 }, async () => {
    const { page, errors } = await openPage('#/study/demo');
    await page.waitForSelector('#parallel-coordinates', WAIT);
    assert.match(await page.locator('#study-counts').textContent() ?? '', /^3 completed · 1 pruned · 1 failed · 1 running · 0 paused · 0 waiting$/);
    assert.equal(await page.locator('#study-best').textContent(), 'Best: trial 2, val_accuracy 0.7100 (lr=0.003, optimizer=sgd)');

    // Best so far: two uPlot series (best, and each trial's value) over the 3 completed trials.
    await page.waitForSelector('#best-so-far canvas', WAIT);
    assert.equal(await page.locator('#best-so-far').getAttribute('data-series'), '2');
    assert.equal(await page.locator('#best-so-far').getAttribute('data-points'), '6');
    assert.equal(await page.locator('#best-so-far').getAttribute('data-x-ticks'), '0,1,2,3', 'whole trial numbers only');

    // Parallel coordinates: lr (log), optimizer, then the metric; one line per finished trial.
    const plot = page.locator('#parallel-coordinates');
    assert.equal(await plot.getAttribute('data-axes'), '3');
    assert.equal(await plot.getAttribute('data-lines'), '4');
    assert.deepEqual(await page.locator('#parallel-coordinates .pc-label').allTextContents(), ['lr (log)', 'optimizer', 'val_accuracy']);
    const lines = await page.locator('#parallel-coordinates polyline').evaluateAll((els) => els.map((el) => ({
      trial: Number(el.getAttribute('data-trial')), stroke: el.getAttribute('stroke'), dash: el.getAttribute('stroke-dasharray'),
      points: (el.getAttribute('points') ?? '').split(' ').map((p) => p.split(',').map(Number)),
    })));
    assert.deepEqual(lines.map((l) => l.trial), [1, 3, 0, 2], 'drawn worst first, the best on top');
    const best = lines.find((l) => l.trial === 2)!;
    const worst = lines.find((l) => l.trial === 1)!;
    assert.equal(best.stroke, 'rgb(253, 231, 37)');
    assert.equal(worst.stroke, 'rgb(68, 1, 84)');
    assert.equal(worst.dash, '5 4', 'the pruned trial is dashed');
    assert.equal(best.dash, null);
    const ys = (trial: number, axis: number) => lines.find((l) => l.trial === trial)!.points[axis][1];
    assert.ok(ys(2, 2) < ys(0, 2) && ys(0, 2) < ys(3, 2) && ys(3, 2) < ys(1, 2), 'higher val_accuracy sits higher');
    assert.ok(ys(1, 0) < ys(2, 0) && ys(2, 0) < ys(0, 0) && ys(0, 0) < ys(3, 0), 'higher lr sits higher (log axis)');
    assert.equal(ys(0, 1), ys(3, 1), 'same optimizer, same point');
    // On a log axis lr 0.001 sits where log10 puts it between 0.0002 and 0.05.
    const share = (ys(3, 0) - ys(0, 0)) / (ys(3, 0) - ys(1, 0));
    assert.ok(Math.abs(share - Math.log10(0.001 / 0.0002) / Math.log10(0.05 / 0.0002)) < 0.01, String(share));

    // The trials table: every trial, the best highlighted, runs linked to their pages.
    assert.equal(await page.locator('#trials tbody tr').count(), 6);
    assert.equal(await page.locator('#trials tbody tr.selected').getAttribute('data-trial'), '2');
    assert.deepEqual(await page.locator('#trials tbody tr[data-trial="1"] td').allTextContents(), ['1', 'pruned', '0.4000', '1', '0.05', 'sgd', runId(1)]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard_study.png'), fullPage: true });
    await page.click(`#trials a[href="#/run/${runId(2)}"]`);
    await page.waitForSelector('#run-status', WAIT);
    assert.equal(await page.locator('#run-status').textContent(), 'completed');
    assert.deepEqual(errors, []);
  });

  it('says so for a study that does not exist', { timeout: 20_000 }, async () => {
    const { page } = await openPage('#/study/nope');
    await page.waitForSelector('#study-problem', WAIT);
    assert.equal(await page.locator('#study-problem').textContent(), 'No study nope in the dashboard\'s study storage.');
  });
});
