// --workers auto: the scaling decision on synthetic loads (hysteresis, cooldown, bounds), the config, and one
// bounded load ramp on loopback: a real clustered server (min 1, max 2 workers, tiny thresholds, 100 ms polls)
// gets a burst of concurrent requests → a second worker appears; idle → it is drained back to 1; the base worker
// killed → the supervisor restarts it and the pool adds no worker of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

import { resolveServeConfig, type ServeConfig } from '../../src/serve/config';
import { ServeMetrics } from '../../src/serve/metrics';
import { Autoscaler, type AutoscalerOptions, type WorkerLoad } from '../../src/serve/scaling/autoscaler';
import { startupBanner } from '../../src/serve/start';
import { instance, NO_KEYS, saveVersion, tempRepository, testServer, waitFor } from './helpers';

const OPTIONS: AutoscalerOptions = {
  minWorkers: 1, maxWorkers: 3, queueHigh: 4, queueLow: 1, latencyHighMs: 200, latencyLowMs: 50, upAfter: 2, downAfter: 3, cooldown: 1,
};
const load = (queueDepth: number, p95Ms: number | null = 10): WorkerLoad => ({ queueDepth, p95Ms });

describe('Autoscaler', () => {
  it('adds a worker only after upAfter busy polls in a row, then cools down', () => {
    const a = new Autoscaler(OPTIONS);
    assert.equal(a.initialWorkers, 1);
    assert.equal(a.observe(1, [load(9)]).change, 0); // 1 busy poll
    assert.equal(a.observe(1, [load(2)]).change, 0); // streak broken (2 is between the thresholds)
    assert.equal(a.observe(1, [load(9)]).change, 0);
    const up = a.observe(1, [load(9)]);
    assert.deepEqual(up, { change: 1, reason: 'queue 9.0 > 4 for 2 polls', meanQueueDepth: 9 });
    assert.equal(a.observe(2, [load(9), load(9)]).reason, 'cooldown');
    assert.equal(a.observe(2, [load(9), load(9)]).change, 0); // a new streak starts after the cooldown
    assert.equal(a.observe(2, [load(9), load(9)]).change, 1);
  });

  it('uses the mean queue depth per worker and the worst p95', () => {
    const a = new Autoscaler({ ...OPTIONS, upAfter: 1 });
    assert.equal(a.observe(2, [load(7), load(0)]).change, 0); // mean 3.5 <= 4
    const slow = new Autoscaler({ ...OPTIONS, upAfter: 1 });
    assert.equal(slow.observe(2, [load(0, 20), load(0, 250)]).reason, 'p95 250 ms > 200 ms for 1 polls');
  });

  it('removes a worker after downAfter idle polls (queue and latency both low), never below min or above max', () => {
    const a = new Autoscaler({ ...OPTIONS, cooldown: 0 });
    for (let i = 0; i < 2; i++) assert.equal(a.observe(3, [load(0), load(0), load(0)]).change, 0);
    assert.equal(a.observe(3, [load(0, 60), load(0), load(0)]).change, 0); // p95 60 >= 50: not idle, streak reset
    for (let i = 0; i < 2; i++) assert.equal(a.observe(3, [load(0), load(0), load(0, null)]).change, 0);
    assert.equal(a.observe(3, [load(0), load(0), load(0)]).change, -1);
    for (let i = 0; i < 2; i++) a.observe(1, [load(0)]);
    assert.deepEqual(a.observe(1, [load(0)]), { change: 0, reason: 'idle, at --min-workers', meanQueueDepth: 0 });
    const busy = new Autoscaler({ ...OPTIONS, upAfter: 1 });
    assert.equal(busy.observe(3, [load(50), load(50), load(50)]).reason, 'busy, at --max-workers');
    assert.equal(busy.observe(0, []).change, 1); // below the minimum (crashed workers): back up at once
    assert.equal(busy.observe(5, [load(0)]).change, -1);
  });

  it('rejects bounds and thresholds that cannot work', () => {
    assert.throws(() => new Autoscaler({ ...OPTIONS, minWorkers: 3, maxWorkers: 2 }), /1 <= minWorkers <= maxWorkers\. Received: minWorkers=3, maxWorkers=2/);
    assert.throws(() => new Autoscaler({ ...OPTIONS, queueLow: 4 }), /low thresholds must be below its high ones\. Received: queueLow=4, queueHigh=4/);
  });
});

describe('ServeMetrics.loadReport (what a worker tells the autoscaler)', () => {
  it('requests in flight, and the p95 bucket bound of the inference requests answered since the last report', async () => {
    const metrics = new ServeMetrics({ defaultMetrics: false });
    assert.deepEqual(await metrics.loadReport(), { queueDepth: 0, p95Ms: null });
    metrics.inFlight.inc(3);
    for (let i = 0; i < 95; i++) metrics.requestSeconds.observe({ route: '/v1/models/:target', method: 'POST' }, 0.004);
    for (let i = 0; i < 5; i++) metrics.requestSeconds.observe({ route: '/v2/models/:model/infer', method: 'POST' }, 0.2);
    for (let i = 0; i < 50; i++) metrics.requestSeconds.observe({ route: '/v2/health/ready', method: 'GET' }, 3); // not inference
    assert.deepEqual(await metrics.loadReport(), { queueDepth: 3, p95Ms: 5 }); // 95 of 100 within the 5 ms bucket
    metrics.requestSeconds.observe({ route: '/v1/models/:target', method: 'POST' }, 0.3);
    metrics.inFlight.dec(3);
    assert.deepEqual(await metrics.loadReport(), { queueDepth: 0, p95Ms: 500 }); // only what came since: one 300 ms request
    assert.deepEqual(await metrics.loadReport(), { queueDepth: 0, p95Ms: null });
  });
});

describe('serve config: --workers auto', () => {
  it('reads auto (any case) as autoscale up to maxWorkers; integers as before', () => {
    const auto = resolveServeConfig({ models: 'm', workers: 'AUTO', minWorkers: '2', maxWorkers: '5' });
    assert.equal(auto.autoscale, true);
    assert.equal(auto.workers, 5);
    assert.equal(auto.minWorkers, 2);
    const fixed = resolveServeConfig({ models: 'm', workers: '3' });
    assert.equal(fixed.workers, 3);
    assert.equal(fixed.autoscale, undefined);
    assert.throws(() => resolveServeConfig({ models: 'm', workers: 'many' }), /workers must be an integer >= 1 and <= 64/);
    assert.throws(() => resolveServeConfig({ models: 'm', workers: 'auto', minWorkers: 3, maxWorkers: 2 }), /minWorkers must be <= maxWorkers\..*Received: minWorkers=3, maxWorkers=2/s);
  });
});

describe('startup banner with --workers auto', () => {
  it('states the range of worker processes', async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    const server = await testServer(root, { workers: 'auto', minWorkers: 2, maxWorkers: 3 } as unknown as Partial<ServeConfig>);
    try {
      assert.equal(server.ctx.config.autoscale, true);
      assert.match(startupBanner(server, 'http://127.0.0.1:1', NO_KEYS), /^ {2}backend: \w+ \(2 to 3 worker processes by load: --workers auto\)$/m);
    } finally {
      await server.close();
    }
  });
});

/** A free loopback port (the cluster's workers share it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

describe('load ramp on a clustered server (min 1, max 2)', () => {
  it('adds a second worker under a burst and drains it when idle', { timeout: 60_000 }, async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    const port = await freePort();
    const child = spawn(process.execPath, ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href,
      path.join(__dirname, 'autoscale_server.ts'), root, String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_TORCH_THREADS: '1' } });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const metric = async (pattern: RegExp) => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const m = text.match(pattern);
      return m === null ? null : Number(m[1]);
    };
    try {
      await waitFor(() => lines.some((l) => l.msg === 'ready'), 30_000, `the first worker (stderr: ${stderr.slice(-500)})`);
      assert.equal(await metric(/^insight_workers (\S+)$/m), 1);
      assert.equal(await metric(/^insight_scale_events_total\{direction="up"\} (\S+)$/m), 0);

      // The ramp: 8 clients, each sending requests of 32 instances back to back until the primary adds a worker.
      const body = JSON.stringify({ instances: Array.from({ length: 32 }, (_, i) => instance(i)) });
      let stop = false;
      let answered = 0;
      const failures: string[] = [];
      const client = async () => {
        while (!stop) {
          const res = await fetch(`${base}/v1/models/tiny:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          const text = await res.text();
          if (res.status === 200) answered++;
          else failures.push(`${res.status} ${text}`);
        }
      };
      const clients = Array.from({ length: 8 }, client);
      try {
        await waitFor(() => lines.some((l) => l.msg === 'autoscale: adding a worker'), 20_000, 'a second worker under load');
      } finally {
        stop = true;
        await Promise.all(clients);
      }
      await waitFor(() => lines.filter((l) => l.msg === 'ready').length === 2, 20_000, 'the second worker listening');
      const up = lines.find((l) => l.msg === 'autoscale: adding a worker')!;
      assert.equal(up.workers, 2);
      assert.match(String(up.reason), /^queue \d+\.\d > 1 for 2 polls$/);
      assert.deepEqual(failures.slice(0, 3), []);
      assert.ok(answered > 0);
      await waitFor(async () => (await metric(/^insight_workers (\S+)$/m)) === 2, 5_000, 'both workers in /metrics');

      // Idle: 5 quiet polls (+ cooldown) later the extra worker is drained and exits.
      await waitFor(() => lines.some((l) => l.msg === 'autoscale: draining a worker'), 10_000, 'the scale-down');
      const down = lines.find((l) => l.msg === 'autoscale: draining a worker')!;
      assert.equal(down.workers, 1);
      await waitFor(async () => (await metric(/^insight_workers (\S+)$/m)) === 1, 10_000, 'one worker in /metrics again');
      assert.equal(await metric(/^insight_scale_events_total\{direction="up"\} (\S+)$/m), 1);
      assert.equal(await metric(/^insight_scale_events_total\{direction="down"\} (\S+)$/m), 1);
      const res = await fetch(`${base}/v1/models/tiny:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 200); // still serving on the remaining worker

      // The base worker crashes: the supervisor restarts it; the pool adds none meanwhile (it did: below --min-workers).
      const basePid = Number(lines.find((l) => l.msg === 'ready')!.pid);
      process.kill(basePid, 'SIGKILL');
      await waitFor(() => lines.filter((l) => l.msg === 'ready').length === 3, 20_000, 'the restarted base worker');
      await new Promise((resolve) => setTimeout(resolve, 500)); // a few more 100 ms polls
      assert.deepEqual(lines.filter((l) => l.msg === 'autoscale: adding a worker').map((l) => l.reason), [up.reason]);
      assert.equal(await metric(/^insight_workers (\S+)$/m), 1);
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
      assert.equal(code, 0, `primary exit (stderr: ${stderr.slice(-800)})`);
    }
  });
});
