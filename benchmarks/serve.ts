// Serving benchmark: requests/s and p50/p99 latency of `insight serve` with the seed-cnn (random weights, 32x32x3,
// 10 classes) at several client concurrencies, with dynamic batching and with batch-1 serving, side by side with
// the same network in PyTorch behind a minimal Python HTTP server (benchmarks/serve_pytorch.py, same weights, same
// JSON), all measured by the same autocannon client against 127.0.0.1. One request = TF Serving's
// {"instances": [<one 32x32x3 image as nested floats>]}. Prints a markdown table, the mean batch size the server
// formed, and the ratios (target: batching >= 3x batch-1 at concurrency 64).
//   node --conditions=source --import tsx benchmarks/serve.ts [--duration 10] [--concurrency 1,16,64] [--threads <n>]
//     [--max-batch-size 64] [--max-queue-delay-ms 0] [--no-pytorch]
// Client and servers share the machine: on a small machine the client's own CPU use is part of every number.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createModel, initBackend, saveModel } from '@insight/insight';

import { benchmarkArgs, numberArg, numberListArg } from './args';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon: Autocannon = require('autocannon');

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/serve.ts [options]
  --duration <s>             seconds per measured cell (default: 10)
  --concurrency <list>       client connections, one cell each (default: 1,16,64)
  --threads <n>              compute threads of each server (default: cores - 1, at least 1)
  --max-batch-size <n>       insight serve's dynamic batching limit (default: 64)
  --max-queue-delay-ms <ms>  insight serve's batching delay (default: 0)
  --no-pytorch               skip the PyTorch server`;
// Compute threads of both servers: insight serve's default (cores - 1, at least 1; see src/serve/compute_threads.ts).
const args = benchmarkArgs(USAGE, {
  duration: { type: 'string', default: '10' },
  concurrency: { type: 'string', default: '1,16,64' },
  threads: { type: 'string', default: String(Math.max(1, os.availableParallelism() - 1)) },
  'max-batch-size': { type: 'string', default: '64' },
  'max-queue-delay-ms': { type: 'string', default: '0' },
  'no-pytorch': { type: 'boolean', default: false },
});
const duration = numberArg('duration', args.duration);
const concurrencies = numberListArg('concurrency', args.concurrency);
const threads = numberArg('threads', args.threads);
const withPytorch = !args['no-pytorch'];
const maxBatch = String(numberArg('max-batch-size', args['max-batch-size']));
const delayMs = String(numberArg('max-queue-delay-ms', args['max-queue-delay-ms']));
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'packages', 'insight', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];
const MODEL = 'seed-cnn';

/** Starts a server process and resolves with its URL, read from the JSON line it prints when ready. */
function startServer(command: string, args: string[], env: Record<string, string>, urlOf: (line: Record<string, unknown>) => string | undefined) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        try {
          const url = urlOf(JSON.parse(line));
          if (url) {
            clearTimeout(timer);
            child.stdout!.removeAllListeners('data');
            child.stdout!.resume();
            child.stderr!.resume();
            resolve({ child, url });
            return;
          }
        } catch { /* not a JSON line (yet) */ }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The mean batch size the Insight server formed since the last call (from its Prometheus metrics). */
async function batchStats(url: string, previous: { sum: number; count: number }) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^insight_serve_batch_size_${name}\\{model="${MODEL}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const now = { sum: read('sum'), count: read('count') };
  return { now, mean: (now.sum - previous.sum) / Math.max(1, now.count - previous.count) };
}

interface Row { server: string; concurrency: number; rps: number; p50: number; p99: number; failures: number; meanBatch: number | null }

async function measure(name: string, url: string, body: string, insight: boolean): Promise<Row[]> {
  const target = `${url}/v1/models/${MODEL}:predict`;
  const run = (connections: number, seconds: number) => autocannon({
    url: target, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: seconds, timeout: 30,
  });
  await run(16, Math.min(3, duration)); // warm-up (JIT, kernels, connections)
  const rows: Row[] = [];
  let stats = { sum: 0, count: 0 };
  if (insight) stats = (await batchStats(url, stats)).now;
  for (const c of concurrencies) {
    const r = await run(c, duration);
    let meanBatch: number | null = null;
    if (insight) {
      const s = await batchStats(url, stats);
      stats = s.now;
      meanBatch = s.mean;
    }
    rows.push({ server: name, concurrency: c, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors + r.timeouts, meanBatch });
    console.error(`  ${name} c=${c}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
  }
  return rows;
}

async function main() {
  const loadBefore = os.loadavg();
  await initBackend();
  // The model: seed-cnn from Insight's zoo, random (seeded) weights, saved as <repo>/seed-cnn/1.
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-serve-'));
  const model = createModel(MODEL, { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  await saveModel(model, path.join(repo, MODEL, '1'));
  const weightsFile = path.join(repo, 'weights.json');
  fs.writeFileSync(weightsFile, JSON.stringify(model.getWeights().map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }))));
  model.dispose();
  // One request: one image, values rounded to 4 decimals (~25 KB of JSON).
  let state = 7;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.round(((state >>> 8) % 10000)) / 10000;
  };
  const image = Array.from({ length: 32 }, () => Array.from({ length: 32 }, () => [next(), next(), next()]));
  const body = JSON.stringify({ instances: [image] });

  const servers: { name: string; start: () => ReturnType<typeof startServer>; insight: boolean }[] = [
    { name: `insight serve, dynamic batching (max batch ${maxBatch}, delay ${delayMs} ms)`, insight: true, start: () => startServer(process.execPath,
      [...NODE_FLAGS, BIN, 'serve', '--models', repo, '--port', '0', '--log-level', 'warn', '--rate-limit', '0', '--max-batch-size', maxBatch,
        '--max-queue-delay-ms', delayMs, '--max-queue-size', '1024', '--timeout-ms', '60000', '--compute-threads', String(threads)],
      { INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' },
      (l) => (l.msg === 'insight serve ready' ? String(l.url) : undefined)) },
    { name: 'insight serve, batch-1 (max batch 1)', insight: true, start: () => startServer(process.execPath,
      [...NODE_FLAGS, BIN, 'serve', '--models', repo, '--port', '0', '--log-level', 'warn', '--rate-limit', '0', '--max-batch-size', '1',
        '--max-queue-delay-ms', '0', '--max-queue-size', '1024', '--timeout-ms', '60000', '--compute-threads', String(threads)],
      { INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' },
      (l) => (l.msg === 'insight serve ready' ? String(l.url) : undefined)) },
  ];
  if (withPytorch) {
    servers.push({ name: 'PyTorch + ThreadingHTTPServer (batch 1)', insight: false, start: () => startServer('/usr/bin/python3',
      [path.join(__dirname, 'serve_pytorch.py'), '--port', '0', '--threads', String(threads), '--weights', weightsFile], {},
      (l) => (typeof l.url === 'string' ? l.url : undefined)) });
  }

  const rows: Row[] = [];
  const answers: number[][] = [];
  for (const s of servers) {
    console.error(`${s.name} ...`);
    const { child, url } = await s.start();
    try {
      const check = await fetch(`${url}/v1/models/${MODEL}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = await check.json() as { predictions: number[][] };
      if (check.status !== 200 || json.predictions?.[0]?.length !== 10) throw new Error(`${s.name}: bad answer ${check.status} ${JSON.stringify(json).slice(0, 200)}`);
      answers.push(json.predictions[0]);
      rows.push(...await measure(s.name, url, body, s.insight));
    } finally {
      await stop(child);
    }
  }
  const loadAfter = os.loadavg();

  const fmt = (x: number, digits = 0) => x.toFixed(digits);
  console.log(`\nServing seed-cnn (32x32x3 -> 10), one image per request as JSON; ${duration} s per cell; ${threads} compute threads per server; ` +
    `autocannon on the same ${os.availableParallelism()}-core machine (node ${process.version}).`);
  console.log(`Load average before/after: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log('| Server | Concurrency | Requests/s | p50 ms | p99 ms | Mean batch | Failed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.server} | ${r.concurrency} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.meanBatch === null ? '—' : fmt(r.meanBatch, 1)} | ${r.failures} |`);
  }
  const rps = (server: number, c: number) => rows.find((r) => r.server === servers[server].name && r.concurrency === c)?.rps ?? NaN;
  console.log('');
  for (const c of concurrencies) {
    const parts = [`batching / batch-1 = ${fmt(rps(0, c) / rps(1, c), 2)}x`];
    if (withPytorch) parts.push(`insight batching / PyTorch = ${fmt(rps(0, c) / rps(2, c), 2)}x`, `insight batch-1 / PyTorch = ${fmt(rps(1, c) / rps(2, c), 2)}x`);
    console.log(`- concurrency ${c}: ${parts.join('; ')}`);
  }
  const maxDiff = answers.length > 1 ? Math.max(...answers.slice(1).flatMap((a) => a.map((p, i) => Math.abs(p - answers[0][i])))) : 0;
  console.log(`- the servers' answers to the same request differ by at most ${maxDiff.toExponential(2)} (same weights).`);
  const c64 = concurrencies.includes(64) ? rps(0, 64) / rps(1, 64) : NaN;
  if (Number.isFinite(c64)) console.log(`- target (batching >= 3x batch-1 at concurrency 64): ${c64 >= 3 ? 'met' : 'NOT met'} (${fmt(c64, 2)}x).`);
  fs.rmSync(repo, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
