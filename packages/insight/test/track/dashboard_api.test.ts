// The dashboard's HTTP side, in-process: the JSON API (runs, run pages, images), static assets (served locally,
// nothing else reachable), the SSE live stream (backlog, appends, corrupt lines, status changes, deletion), and
// the listening errors — a second dashboard on a taken port fails with INSIGHT_E_LISTEN and exit status 8.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { FastifyInstance } from 'fastify';

import { RunIndex } from '../../src/track/run_index';
import { buildDashboard, startDashboard, type RunningDashboard } from '../../src/track/dashboard/server';
import { BIN, NODE_FLAGS, runMain } from '../cli/io';
import { appendLine, epochRecord, tempRunsDir, writeRun } from './fixtures';
import { SseClient } from './sse';

let runsDir: string;
let app: FastifyInstance;
let index: RunIndex;

before(async () => {
  runsDir = tempRunsDir('insight-dash-api-');
  await writeRun(runsDir, { id: 'run-a', config: { optimizer: 'adam' }, epochs: 3, report: true, tags: ['baseline'] });
  await writeRun(runsDir, { id: 'run-b', config: { optimizer: 'adamw' }, epochs: 2, createdAt: '2026-01-02T00:00:00.000Z' });
  index = RunIndex.open(runsDir);
  app = buildDashboard({ runsDir, index, pollMs: 50, heartbeatMs: 1000 });
});

after(async () => {
  await app.close();
  index.close();
});

describe('dashboard API', () => {
  it('GET /api/runs lists the runs with params, metrics and tags, and accepts --where filters', async () => {
    const response = await app.inject('/api/runs');
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.runsDir, path.resolve(runsDir));
    assert.deepEqual(body.runs.map((r: { id: string }) => r.id), ['run-b', 'run-a']);
    const a = body.runs[1];
    assert.equal(a.status, 'completed');
    assert.equal(a.params.optimizer, 'adam');
    assert.deepEqual(a.tags, ['baseline']);
    assert.ok(a.best.val_accuracy > 0);
    assert.equal(a.dir, undefined, 'no filesystem paths of runs');
    assert.deepEqual([a.name, a.kind], [null, 'train']);
    // The hyperparameters that apply to the run: not where it ran (runsDir).
    assert.deepEqual(a.hyperparameters, Object.keys(a.params).filter((key) => key !== 'runsDir'));
    assert.ok(a.hyperparameters.includes('optimizer'));
    assert.ok(body.params.includes('optimizer') && body.metrics.includes('val_accuracy'));
    const filtered = (await app.inject('/api/runs?where=optimizer%3Dadamw')).json();
    assert.deepEqual(filtered.runs.map((r: { id: string }) => r.id), ['run-b']);
    const bad = await app.inject('/api/runs?where=nope%3D1');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'INSIGHT_E_QUERY');
    assert.match(bad.json().message, /^A --where key must be a run column, a metric or a hyperparameter of some run\. Received: where="nope"/);
  });

  it('GET /api/runs/:id returns the run, its report and images; unknown or odd ids are 404 INSIGHT_E_RUN_NOT_FOUND', async () => {
    const body = (await app.inject('/api/runs/run-a')).json();
    assert.equal(body.run.id, 'run-a');
    assert.equal(body.report.accuracy, 0.8);
    assert.equal(body.report.perClass.length, 3);
    assert.deepEqual(body.images, { confusion: true, predictions: true });
    assert.deepEqual((await app.inject('/api/runs/run-b')).json().images, { confusion: false, predictions: false });
    for (const id of ['nope', encodeURIComponent('../run-a')]) {
      const response = await app.inject(`/api/runs/${id}`);
      assert.equal(response.statusCode, 404, id);
      assert.equal(response.json().code, 'INSIGHT_E_RUN_NOT_FOUND');
    }
    // Dot segments are resolved by the URL itself, landing on no route at all: still a JSON 404.
    for (const id of ['..', '.', '%2E%2E']) assert.equal((await app.inject(`/api/runs/${id}`)).statusCode, 404, id);
    assert.match((await app.inject('/api/runs/nope')).json().message,
      /^A run page needs a run directory in the runs directory\. Received: run="nope", runsDir=".*"\. It may have been deleted or renamed; go back to the runs table\.$/);
  });

  it('a runs directory deleted under a running dashboard is a JSON 404 INSIGHT_E_RUNS_DIR, not a crash', async () => {
    const dir = tempRunsDir('insight-dash-gone-');
    await writeRun(dir, { id: 'x' });
    const goneIndex = RunIndex.open(dir);
    const goneApp = buildDashboard({ runsDir: dir, index: goneIndex, pollMs: 50, heartbeatMs: 1000 });
    try {
      assert.equal((await goneApp.inject('/api/runs')).statusCode, 200);
      fs.rmSync(dir, { recursive: true });
      const response = await goneApp.inject('/api/runs');
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().code, 'INSIGHT_E_RUNS_DIR');
      assert.equal((await goneApp.inject('/api/runs/x')).json().code, 'INSIGHT_E_RUNS_DIR');
    } finally {
      await goneApp.close();
      goneIndex.close();
    }
  });

  it('serves a run\'s images from a fixed list only', async () => {
    const png = await app.inject('/api/runs/run-a/files/confusion.png');
    assert.equal(png.statusCode, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.deepEqual(png.rawPayload, fs.readFileSync(path.join(runsDir, 'run-a', 'report', 'confusion.png')));
    assert.equal((await app.inject('/api/runs/run-a/files/predictions.png')).statusCode, 200);
    for (const name of ['config.json', 'run.json', encodeURIComponent('../run-b/config.json')]) {
      const response = await app.inject(`/api/runs/run-a/files/${name}`);
      assert.equal(response.statusCode, 404, name);
      assert.equal(response.json().code, 'INSIGHT_E_RUN_NOT_FOUND');
    }
    assert.equal((await app.inject('/api/runs/run-b/files/confusion.png')).statusCode, 404, 'not written yet');
  });

  it('serves the page, its modules and uPlot locally (no CDN), and nothing outside the web folder', async () => {
    const page = await app.inject('/');
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    const html = page.body;
    assert.doesNotMatch(html, /https?:\/\//, 'no external URLs in the page');
    for (const src of [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1])) {
      const response = await app.inject(src);
      assert.equal(response.statusCode, 200, src);
    }
    const app_js = await app.inject('/assets/app.js');
    assert.match(app_js.headers['content-type'] as string, /^text\/javascript/);
    const webDir = path.join(__dirname, '..', '..', 'src', 'track', 'web');
    for (const file of fs.readdirSync(webDir).filter((f) => f.endsWith('.js'))) {
      const text = fs.readFileSync(path.join(webDir, file), 'utf8');
      assert.doesNotMatch(text, /https?:\/\/|cdn/i, `${file} loads nothing remote`);
      for (const imported of [...text.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1])) {
        assert.equal((await app.inject(`/assets/${imported}`)).statusCode, 200, `${file} imports ${imported}`);
      }
    }
    const uplot = await app.inject('/vendor/uplot.js');
    assert.equal(uplot.statusCode, 200);
    assert.match(uplot.body, /uPlot/);
    for (const url of ['/assets/..%2F..%2Fpackage.json', '/assets/nope.js', '/vendor/other.js', '/etc/passwd', '/api/nope']) {
      assert.equal((await app.inject(url)).statusCode, 404, url);
    }
  });
});

describe('dashboard live stream (SSE)', () => {
  let server: RunningDashboard;
  let streamDir: string;

  before(async () => {
    streamDir = tempRunsDir('insight-dash-sse-');
    await writeRun(streamDir, { id: 'live', status: 'running', epochs: 2 });
    await writeRun(streamDir, { id: 'done', epochs: 1 });
    server = await startDashboard({ runsDir: streamDir, port: 0, host: '127.0.0.1' }, { pollMs: 50 });
  });
  after(() => server.close());

  it('sends the backlog, then appended records, skips corrupt lines with a warning, and reports status changes and deletion', async () => {
    const client = new SseClient(`${server.url}api/stream?runs=live,done,ghost`);
    const response = await client.open();
    try {
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const backlog = await client.until('ready');
      const metrics = backlog.filter((e) => e.event === 'metrics').map((e) => e.data as { run: string; records: { epoch: number }[]; position: { offset: number; line: number } });
      assert.deepEqual(metrics.map((m) => [m.run, m.records.map((r) => r.epoch)]), [['live', [1, 2]], ['done', [1]]]);
      assert.deepEqual(backlog.filter((e) => e.event === 'status').map((e) => e.data), [{ run: 'live', status: 'running' }, { run: 'done', status: 'completed' }]);
      assert.deepEqual(backlog.filter((e) => e.event === 'deleted').map((e) => e.data), [{ run: 'ghost' }]);
      const liveDir = path.join(streamDir, 'live');

      appendLine(liveDir, epochRecord(3));
      appendLine(liveDir, '{"type":"epoch","epoch":4,"val_acc');
      let [event] = await client.until('metrics');
      assert.deepEqual((event.data as { records: { epoch: number }[] }).records.map((r) => r.epoch), [3], 'the half-written line waits');
      appendLine(liveDir, 'uracy":0.5}\nnot json\n');
      [event] = await client.until('metrics');
      assert.deepEqual(event.data, {
        run: 'live', reset: false, records: [{ type: 'epoch', epoch: 4, val_accuracy: 0.5 }],
        warnings: ['metrics.jsonl line 5 is not valid JSON and was skipped: not json'], position: { offset: fs.statSync(path.join(liveDir, 'metrics.jsonl')).size, line: 5 },
      });

      const info = JSON.parse(fs.readFileSync(path.join(liveDir, 'run.json'), 'utf8'));
      fs.writeFileSync(path.join(liveDir, 'run.json'), JSON.stringify({ ...info, status: 'completed' }));
      assert.deepEqual((await client.until('status')).at(-1)!.data, { run: 'live', status: 'completed' });

      fs.rmSync(liveDir, { recursive: true });
      assert.deepEqual((await client.until('deleted')).at(-1)!.data, { run: 'live' });
    } finally {
      client.close();
    }
  });

  it('continues from a position (a reconnecting page), and rejects a malformed runs list with 400', async () => {
    const file = path.join(streamDir, 'done', 'metrics.jsonl');
    const size = fs.statSync(file).size;
    appendLine(path.join(streamDir, 'done'), epochRecord(2));
    const client = new SseClient(`${server.url}api/stream?runs=${encodeURIComponent(`done:${size}:1`)}`);
    await client.open();
    try {
      const events = await client.until('ready');
      const metrics = events.filter((e) => e.event === 'metrics');
      assert.equal(metrics.length, 1);
      assert.deepEqual((metrics[0].data as { records: { epoch: number }[] }).records.map((r) => r.epoch), [2]);
    } finally {
      client.close();
    }
    const bad = await fetch(`${server.url}api/stream?runs=`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'INSIGHT_E_QUERY');
  });

  it('says crashed when a running run\'s process dies, although its run.json never changes again', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await writeRun(streamDir, { id: 'held', status: 'running', epochs: 1 });
    const runJson = path.join(streamDir, 'held', 'run.json');
    const info = JSON.parse(fs.readFileSync(runJson, 'utf8'));
    fs.writeFileSync(runJson, JSON.stringify({ ...info, pid: holder.pid, host: os.hostname(), heartbeatAt: new Date().toISOString() }));
    const client = new SseClient(`${server.url}api/stream?runs=held`);
    await client.open();
    try {
      const backlog = await client.until('ready');
      assert.deepEqual(backlog.filter((e) => e.event === 'status').map((e) => e.data), [{ run: 'held', status: 'running' }]);
      const stamp = fs.statSync(runJson).mtimeMs;
      holder.kill('SIGKILL');
      await exited;
      assert.deepEqual((await client.until('status')).at(-1)!.data, { run: 'held', status: 'crashed' });
      assert.equal(fs.statSync(runJson).mtimeMs, stamp, 'the dashboard only reads run.json');
    } finally {
      client.close();
      holder.kill('SIGKILL');
    }
  });
});

describe('insight dashboard', () => {
  it('a second dashboard on a taken port fails fast: INSIGHT_E_LISTEN, exit 8, saying what to do', async () => {
    const dir = tempRunsDir('insight-dash-port-');
    const first = await startDashboard({ runsDir: dir, port: 0, host: '127.0.0.1' });
    const port = Number(new URL(first.url).port);
    try {
      const { status, stdout, stderr } = await runMain(['dashboard', '--runs-dir', dir, '--port', String(port)]);
      assert.equal(status, 8);
      assert.equal(stdout, '');
      assert.equal(stderr, `Error INSIGHT_E_LISTEN: Port in use: the dashboard needs a port no other program listens on. Received: port=${port}, host="127.0.0.1". ` +
        `Stop the other program (perhaps another \`insight dashboard\`), or pass another port, e.g. --port ${port + 1} (--port 0 picks a free one).\n`);
      // The first one is unharmed.
      assert.equal((await fetch(`${first.url}api/runs`)).status, 200);
    } finally {
      await first.close();
    }
  });

  it('rejects a missing runs directory and bad flags before listening', async () => {
    const missing = await runMain(['dashboard', '--runs-dir', '/nonexistent/runs', '--port', '0']);
    assert.equal(missing.status, 7);
    assert.match(missing.stderr, /^Error INSIGHT_E_RUNS_DIR: The runs directory must be an existing directory\. Received: runsDir="\/nonexistent\/runs"/);
    const port = await runMain(['dashboard', '--port', '70000']);
    assert.equal(port.status, 2);
    assert.equal(port.stderr, 'Error INSIGHT_E_CONFIG: port must be an integer >= 0 and <= 65535. Received: port=70000. Pass e.g. --port 6006 (default: 6006).\n');
  });

  it('the real binary serves until SIGTERM, then exits 0', async () => {
    const dir = tempRunsDir('insight-dash-bin-');
    await writeRun(dir, { id: 'only' });
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'dashboard', '--runs-dir', dir, '--port', String(free)], {
      env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    let err = '';
    child.stderr.on('data', (chunk) => { err += chunk; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('Press Ctrl+C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(out, `Insight dashboard: http://127.0.0.1:${free}/\n  runs: ${dir} (1 run)\n  Press Ctrl+C to stop.\n`, err);
      const body = await (await fetch(`http://127.0.0.1:${free}/api/runs`)).json();
      assert.deepEqual(body.runs.map((r: { id: string }) => r.id), ['only']);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, err);
  });
});
