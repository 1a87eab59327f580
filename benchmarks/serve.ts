// Serving benchmark: requests/s, images/s and p50/p99 latency of `insight serve` with the seed-cnn (random weights,
// 32x32x3, 10 classes) at several client concurrencies and over each protocol, side by side with the same network in
// PyTorch behind a minimal Python HTTP server (benchmarks/serve_pytorch.py, same weights), all driven by closed-loop
// clients on the same machine against 127.0.0.1. One request carries k images (--images-per-request, default 1):
//   json         TF Serving REST POST /v1/models/seed-cnn:predict {"instances": [<k 32x32x3 images as nested floats>]}
//                (values rounded to 4 decimals, ~25 KB per image); autocannon.
//   binary       KServe v2 REST POST /v2/models/seed-cnn/infer with the binary tensor extension: a JSON header
//                (Inference-Header-Content-Length), then the [k, 32, 32, 3] FP32 pixels raw; the answer's
//                probabilities come back raw too (binary_data_output); autocannon.
//   grpc-kserve  KServe v2 gRPC ModelInfer, the pixels in raw_input_contents; benchmarks/serve_grpc_load.ts.
//   grpc-tfs     TF Serving gRPC Predict, a DT_FLOAT TensorProto in tensor_content; benchmarks/serve_grpc_load.ts.
// PyTorch's server answers json and binary (the same request bytes; it has no gRPC server) in each variant asked for:
// eager (nn.Module), jit (trace + freeze + optimize_for_inference), either with +cl (channels-last weights).
// Both sides run with the same compute threads and the same environment (by default the glibc malloc settings that
// stop large blocks being returned to the OS and re-faulted: MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_TOP_PAD_). Each cell is measured after a warm-up at its own concurrency (2 s: connections, and the batch
// sizes it forms). Latencies are of answered (2xx / OK) requests, kept in microseconds. Prints a markdown table, the
// mean batch Insight formed, the ratios against the best PyTorch row per concurrency (named), an optional memory soak
// (--soak: one concurrency-64 run per protocol while the server's RSS is read every 250 ms) and the issue's targets
// as met/missed lines.
//   node --conditions=source --import tsx benchmarks/serve.ts [--duration 10] [--concurrency 1,16,64] [--threads <n>]
//     [--protocols json,binary,grpc-kserve,grpc-tfs] [--images-per-request 1] [--pytorch eager,jit] [--no-pytorch]
//     [--batch-1] [--max-batch-size 64] [--max-queue-delay-ms 0] [--grpc-channels 1] [--malloc tuned|default]
//     [--soak <s>] [--soak-only]
// Client and servers share the machine: on a small machine the client's own CPU use is part of every number.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createModel, initBackend, saveModel } from '@insight/insight';

import { benchmarkArgs, numberArg, numberListArg } from './args';
import { callOnce, findProto, GRPC_PROTOCOLS, grpcClient, grpcLoad, grpcMethod, type GrpcMethod } from './serve_grpc_load';
import { Latency, memoryTrend, sampleRss } from './serve_stats';

interface AutocannonResult { non2xx: number; errors: number; timeouts: number; duration: number }
type AutocannonRun = PromiseLike<AutocannonResult> & {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon: (options: Record<string, unknown>) => AutocannonRun = require('autocannon');

const PROTOCOLS = ['json', 'binary', ...GRPC_PROTOCOLS] as const;
type Protocol = (typeof PROTOCOLS)[number];
const PYTORCH_VARIANTS = ['eager', 'jit', 'eager+cl', 'jit+cl'];
const MALLOC = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '536870912' };

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/serve.ts [options]
  --duration <s>             seconds per measured cell (default: 10)
  --concurrency <list>       requests in flight, one cell each (default: 1,16,64)
  --threads <n>              compute threads of each server (default: cores - 1, at least 1)
  --protocols <list>         json, binary, grpc-kserve, grpc-tfs (default: all that apply: the gRPC ones when
                             insight serve takes --grpc-port and its .proto files declare the service)
  --images-per-request <k>   images in each request (default: 1)
  --pytorch <list>           PyTorch variants: eager, jit (trace+freeze+optimize_for_inference), eager+cl, jit+cl
                             (+cl: channels-last weights), or none (default: eager,jit)
  --no-pytorch               the same as --pytorch none
  --batch-1                  also measure insight serve with --max-batch-size 1
  --max-batch-size <n>       insight serve's dynamic batching limit (default: 64)
  --max-queue-delay-ms <ms>  insight serve's batching delay (default: 0)
  --grpc-channels <n>        HTTP/2 connections the gRPC load client spreads its calls over (default: 1)
  --malloc <tuned|default>   tuned: both servers get ${Object.entries(MALLOC).map(([k, v]) => `${k}=${v}`).join(' ')};
                             default: the environment as it is (default: tuned)
  --soak <s>                 then, per protocol, one concurrency-64 run of <s> seconds on insight serve (dynamic
                             batching) while its RSS is read every 250 ms (default: 0, no soak)
  --soak-only                only the soak (no cells, no PyTorch)`;
// Compute threads of both servers: insight serve's default (cores - 1, at least 1; see src/serve/compute_threads.ts).
const args = benchmarkArgs(USAGE, {
  duration: { type: 'string', default: '10' },
  concurrency: { type: 'string', default: '1,16,64' },
  threads: { type: 'string', default: String(Math.max(1, os.availableParallelism() - 1)) },
  protocols: { type: 'string', default: '' },
  'images-per-request': { type: 'string', default: '1' },
  pytorch: { type: 'string', default: 'eager,jit' },
  'no-pytorch': { type: 'boolean', default: false },
  'batch-1': { type: 'boolean', default: false },
  'max-batch-size': { type: 'string', default: '64' },
  'max-queue-delay-ms': { type: 'string', default: '0' },
  'grpc-channels': { type: 'string', default: '1' },
  malloc: { type: 'string', default: 'tuned' },
  soak: { type: 'string', default: '0' },
  'soak-only': { type: 'boolean', default: false },
});
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'packages', 'insight', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];
function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}
const duration = numberArg('duration', args.duration);
const concurrencies = numberListArg('concurrency', args.concurrency);
const threads = numberArg('threads', args.threads);
const perRequest = numberArg('images-per-request', args['images-per-request']);
if (!Number.isInteger(perRequest) || perRequest < 1 || perRequest > 1024) fail(`--images-per-request must be an integer in [1, 1024]. Received: ${perRequest}.`);
const maxBatch = String(numberArg('max-batch-size', args['max-batch-size']));
const delayMs = String(numberArg('max-queue-delay-ms', args['max-queue-delay-ms']));
const grpcChannels = numberArg('grpc-channels', args['grpc-channels']);
const soakSeconds = numberArg('soak', args.soak);
const soakOnly = args['soak-only'];
if (soakOnly && soakSeconds <= 0) fail('--soak-only needs --soak <seconds>.');
if (args.malloc !== 'tuned' && args.malloc !== 'default') fail(`--malloc is tuned or default. Received: ${args.malloc}.`);
const serverEnv: Record<string, string> = args.malloc === 'tuned' ? MALLOC : {};
// gRPC applies when the server takes --grpc-port and its .proto files declare the protocol's service.
const grpcFlag = () => spawnSync(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--help'], { encoding: 'utf8' }).stdout.includes('--grpc-port');
const grpcDeclared = GRPC_PROTOCOLS.filter((p) => findProto(p) !== null);
const available: Protocol[] = ['json', 'binary', ...(grpcDeclared.length > 0 && grpcFlag() ? grpcDeclared : [])];
const protocols = (args.protocols === '' ? available : args.protocols.split(',').map((p) => p.trim())) as Protocol[];
for (const p of protocols) {
  if (!PROTOCOLS.includes(p)) fail(`--protocols takes ${PROTOCOLS.join(', ')}. Received: ${p}.`);
  if (!available.includes(p)) fail(`${p}: insight serve has no --grpc-port yet, or its .proto files do not declare the service (packages/insight/src/serve/grpc/protos).`);
}
const variants = args['no-pytorch'] || soakOnly || args.pytorch === 'none' ? [] : args.pytorch.split(',').map((v) => v.trim());
for (const v of variants) if (!PYTORCH_VARIANTS.includes(v)) fail(`--pytorch takes ${PYTORCH_VARIANTS.join(', ')} or none. Received: ${v}.`);
const grpcOn = protocols.some((p) => p.startsWith('grpc-'));

const MODEL = 'seed-cnn';
const SHAPE: [number, number, number] = [32, 32, 3];
const PIXELS = SHAPE[0] * SHAPE[1] * SHAPE[2];

interface Started { child: ChildProcess; ready: Record<string, unknown>; output: () => string }

// Servers still running are killed, and the model's temporary folder removed, when this process exits, however it
// ends (done, an error, Ctrl-C, EPIPE on a closed pipe).
const children = new Set<ChildProcess>();
let repo = ''; // the model repository (a temporary folder)
process.on('exit', () => {
  children.forEach((c) => c.kill('SIGKILL'));
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** Starts a server process and resolves once it prints its JSON ready line (`isReady`); output() is what it printed. */
function startServer(command: string, argv: string[], env: Record<string, string>, isReady: (line: Record<string, unknown>) => boolean): Promise<Started> {
  const child = spawn(command, argv, { env: { ...process.env, ...serverEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  let ready = false;
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      if (output.length < 65_536) output += chunk.toString();
      if (ready) return;
      for (const line of output.split('\n')) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (isReady(parsed)) {
            ready = true;
            clearTimeout(timer);
            resolve({ child, ready: parsed, output: () => output });
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

/** The batch-size sum and count Insight has recorded so far (Prometheus metrics). */
async function batchCounters(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^insight_serve_batch_size_${name}\\{model="${MODEL}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: read('sum'), count: read('count') };
}

/** The k request images: seeded values rounded to 4 decimals (so JSON and FP32 carry the same numbers). */
function makeImages(k: number): Float32Array {
  let state = 7;
  return Float32Array.from({ length: k * PIXELS }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 10000) / 10000;
  });
}

/** An HTTP protocol's request: path, headers, body, and how to read the first image's probabilities from an answer. */
interface HttpRequest { path: string; headers: Record<string, string>; body: string | Buffer; firstRow: (answer: Response) => Promise<number[]> }

function httpRequest(protocol: 'json' | 'binary', images: Float32Array): HttpRequest {
  const k = images.length / PIXELS;
  if (protocol === 'json') {
    const nested = Array.from({ length: k }, (_, n) => Array.from({ length: SHAPE[0] }, (_, y) => Array.from({ length: SHAPE[1] }, (_, x) =>
      Array.from(images.subarray(((n * SHAPE[0] + y) * SHAPE[1] + x) * SHAPE[2], ((n * SHAPE[0] + y) * SHAPE[1] + x + 1) * SHAPE[2])).map((v) => Number(v.toFixed(4))))));
    return {
      path: `/v1/models/${MODEL}:predict`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: nested }),
      firstRow: async (answer) => ((await answer.json()) as { predictions: number[][] }).predictions[0],
    };
  }
  const bytes = Buffer.from(images.buffer, images.byteOffset, images.byteLength);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'image', shape: [k, ...SHAPE], datatype: 'FP32', parameters: { binary_data_size: bytes.length } }],
    parameters: { binary_data_output: true },
  }));
  return {
    path: `/v2/models/${MODEL}/infer`,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, bytes]),
    firstRow: async (answer) => {
      const body = Buffer.from(await answer.arrayBuffer());
      const n = Number(answer.headers.get('inference-header-content-length'));
      const json = JSON.parse(body.subarray(0, n).toString()) as { outputs: { name: string; shape: number[] }[] };
      const c = json.outputs[0].shape[1];
      const raw = body.subarray(n, n + c * 4);
      return Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)));
    },
  };
}

/** What one protocol needs to be measured: a check call (first image's probabilities) and a closed-loop run. */
interface Driver {
  check(): Promise<number[]>;
  run(concurrency: number, seconds: number): Promise<{ rps: number; p50: number; p99: number; failures: number; failureNote: string }>;
}

function httpDriver(url: string, request: HttpRequest): Driver {
  return {
    async check() {
      const body = typeof request.body === 'string' ? request.body : new Uint8Array(request.body);
      const answer = await fetch(`${url}${request.path}`, { method: 'POST', headers: request.headers, body });
      if (answer.status !== 200) throw new Error(`${request.path}: ${answer.status} ${(await answer.text()).slice(0, 300)}`);
      return request.firstRow(answer);
    },
    async run(connections, seconds) {
      const latency = new Latency();
      const statuses: Record<string, number> = {};
      const instance = autocannon({ url: `${url}${request.path}`, method: 'POST', headers: request.headers, body: request.body, connections, duration: seconds, timeout: 30 });
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) latency.record(ms);
        else statuses[status] = (statuses[status] ?? 0) + 1;
      });
      const r = await instance;
      const s = latency.summary();
      const failures = r.non2xx + r.errors + r.timeouts;
      const note = [...Object.entries(statuses).map(([k, v]) => `${k}: ${v}`), ...(r.errors ? [`errors: ${r.errors}`] : []), ...(r.timeouts ? [`timeouts: ${r.timeouts}`] : [])].join(', ');
      return { rps: s.count / r.duration, p50: s.p50, p99: s.p99, failures, failureNote: note };
    },
  };
}

function grpcDriver(target: string, method: GrpcMethod): Driver {
  return {
    async check() {
      const client = grpcClient(target);
      const { error, answer } = await callOnce(client, method, 30_000);
      client.close();
      if (error) throw new Error(`${method.path}: ${error.message}`);
      return method.firstRow(answer!);
    },
    async run(concurrency, seconds) {
      const r = await grpcLoad(target, method, { concurrency, seconds, channels: grpcChannels });
      return { rps: r.rps, p50: r.p50, p99: r.p99, failures: r.failures, failureNote: Object.entries(r.failuresByStatus).map(([k, v]) => `${k}: ${v}`).join(', ') };
    },
  };
}

interface Server { name: string; side: 'insight' | 'pytorch'; protocols: Protocol[]; soak: boolean; start: () => Promise<Started> }
interface Row {
  server: string; side: 'insight' | 'pytorch'; protocol: Protocol; concurrency: number;
  rps: number; ips: number; p50: number; p99: number; failures: number; failureNote: string; meanBatch: number | null;
}
interface Soak { protocol: Protocol; ips: number; p99: number; failures: number; start: number; end: number; max: number; slopeMbPerMin: number }

const insightServer = (name: string, batch: string, delay: string, soak: boolean): Server => ({
  name, side: 'insight', protocols, soak,
  start: () => startServer(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', repo, '--port', '0', '--log-level', 'warn',
    '--rate-limit', '0', '--max-batch-size', batch, '--max-queue-delay-ms', delay, '--max-queue-size', String(queueSize),
    '--max-instances', String(Math.max(64, perRequest)), '--timeout-ms', '60000', '--compute-threads', String(threads),
    ...(grpcOn ? ['--grpc-port', '0'] : [])], { INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' },
  (l) => l.msg === 'insight serve ready'),
});

// Room in the queue for every image in flight, so a full cell is never refused for want of it.
const queueSize = Math.max(1024, Math.max(...concurrencies, soakSeconds > 0 ? 64 : 0) * perRequest);
const DYNAMIC = `insight serve, dynamic batching (max batch ${maxBatch}, delay ${delayMs} ms)`;

/** Drivers for the protocols a started server answers. */
function drivers(server: Server, started: Started, images: Float32Array): Map<Protocol, Driver> {
  const url = String(started.ready.url);
  const map = new Map<Protocol, Driver>();
  for (const p of server.protocols) {
    if (p === 'json' || p === 'binary') map.set(p, httpDriver(url, httpRequest(p, images)));
    else {
      if (typeof started.ready.grpc !== 'string') throw new Error(`${server.name}: the ready line has no "grpc" field: ${JSON.stringify(started.ready)}`);
      map.set(p, grpcDriver(started.ready.grpc, grpcMethod(p, MODEL, images, SHAPE)));
    }
  }
  return map;
}

async function measure(server: Server, started: Started, images: Float32Array, answers: { who: string; row: number[] }[], soaks: Soak[]): Promise<Row[]> {
  const url = String(started.ready.url);
  const rows: Row[] = [];
  for (const [protocol, driver] of drivers(server, started, images)) {
    const row = await driver.check();
    if (row.length !== 10) throw new Error(`${server.name} ${protocol}: an answer of ${row.length} classes`);
    answers.push({ who: `${server.name} · ${protocol}`, row });
    await driver.run(16, Math.min(3, duration)); // warm-up (JIT, kernels, connections)
    for (const c of soakOnly ? [] : concurrencies) {
      // and at the cell's own concurrency: the batch sizes it forms (insight serve records each size's pass twice
      // before replaying it natively), and as many connections
      await driver.run(c, Math.min(2, duration));
      const before = server.side === 'insight' ? await batchCounters(url) : null;
      const r = await driver.run(c, duration);
      let meanBatch: number | null = null;
      if (before) {
        const after = await batchCounters(url);
        meanBatch = (after.sum - before.sum) / Math.max(1, after.count - before.count);
      }
      rows.push({ server: server.name, side: server.side, protocol, concurrency: c, ...r, ips: r.rps * perRequest, meanBatch });
      console.error(`  ${server.name} ${protocol} c=${c}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, failed ${r.failures}`);
    }
    if (soakSeconds > 0 && server.soak) {
      const pid = Number(started.ready.pid ?? started.child.pid);
      const sampler = sampleRss(pid, 250);
      const r = await driver.run(64, soakSeconds);
      const trend = memoryTrend(sampler.stop());
      soaks.push({ protocol, ips: r.rps * perRequest, p99: r.p99, failures: r.failures, ...trend });
      console.error(`  soak ${protocol}: RSS ${trend.start.toFixed(0)} → ${trend.end.toFixed(0)} MB (max ${trend.max.toFixed(0)}), ${trend.slopeMbPerMin.toFixed(2)} MB/min`);
    }
  }
  return rows;
}

async function main() {
  await initBackend();
  // The model: seed-cnn from Insight's zoo, random (seeded) weights, saved as <repo>/seed-cnn/1.
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-serve-'));
  const model = createModel(MODEL, { inputShape: SHAPE, numClasses: 10, seed: 1 });
  await saveModel(model, path.join(repo, MODEL, '1'));
  const weightsFile = path.join(repo, 'weights.json');
  fs.writeFileSync(weightsFile, JSON.stringify(model.getWeights().map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }))));
  model.dispose();
  const images = makeImages(perRequest);

  const servers: Server[] = [insightServer(DYNAMIC, maxBatch, delayMs, true)];
  if (args['batch-1'] && !soakOnly) servers.push(insightServer('insight serve, batch-1 (max batch 1)', '1', '0', false));
  for (const v of variants) {
    const [mode, cl] = v.split('+');
    servers.push({
      name: `PyTorch ${mode}${cl ? ' channels-last' : ''}`, side: 'pytorch', protocols: protocols.filter((p) => p === 'json' || p === 'binary'), soak: false,
      start: () => startServer('/usr/bin/python3', [path.join(__dirname, 'serve_pytorch.py'), '--port', '0', '--threads', String(threads),
        '--weights', weightsFile, '--mode', mode, ...(cl ? ['--channels-last'] : []), '--warmup-batches', [...new Set([1, perRequest, 16])].join(',')],
      {}, (l) => typeof l.url === 'string'),
    });
  }

  await run(servers, images); // the model's folder goes on exit
}

async function run(servers: Server[], images: Float32Array) {
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  const soaks: Soak[] = [];
  const answers: { who: string; row: number[] }[] = [];
  const configs: string[] = [];
  for (const s of servers) {
    if (s.protocols.length === 0) continue;
    console.error(`${s.name} ...`);
    const started = await s.start();
    try {
      if (s.side === 'pytorch') configs.push(`- ${s.name}: ${JSON.stringify(started.ready.config)}`);
      else {
        // The banner (stderr) follows the ready line.
        for (let i = 0; i < 40 && !/^\s*backend:/m.test(started.output()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        const backend = /^\s*backend:\s*(.*)$/m.exec(started.output())?.[1] ?? 'see its banner';
        configs.push(`- ${s.name}: node ${process.version}, --compute-threads ${threads}, backend ${backend}` +
          `${started.ready.grpc ? `, gRPC on ${String(started.ready.grpc)}` : ''}`);
      }
      rows.push(...await measure(s, started, images, answers, soaks));
    } finally {
      await stop(started.child);
    }
  }
  const loadAfter = os.loadavg();
  report(rows, soaks, answers, configs, loadBefore, loadAfter);
}

function report(rows: Row[], soaks: Soak[], answers: { who: string; row: number[] }[], configs: string[], loadBefore: number[], loadAfter: number[]) {
  const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
  console.log(`\nServing seed-cnn (32x32x3 -> 10), ${perRequest} image${perRequest === 1 ? '' : 's'} per request; ${duration} s per cell; ` +
    `${threads} compute threads per server; clients (autocannon for HTTP, serve_grpc_load.ts for gRPC over ${grpcChannels} connection${grpcChannels === 1 ? '' : 's'}) ` +
    `on the same ${os.availableParallelism()}-core machine (${os.cpus()[0]?.model ?? 'unknown CPU'}).`);
  console.log(`Environment of both servers: ${args.malloc === 'tuned' ? Object.entries(MALLOC).map(([k, v]) => `${k}=${v}`).join(' ') : 'glibc malloc defaults'}.`);
  for (const c of configs) console.log(c);
  if (variants.length > 0) {
    console.log('- PyTorch\'s binary row: the same KServe v2 binary request (JSON header + raw FP32), answered with raw FP32 probabilities; ' +
      'PyTorch has no gRPC server here, so gRPC rows are compared with the best PyTorch row of any protocol.');
  }
  console.log(`Load average before/after: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);

  // The best PyTorch row per concurrency, of any protocol and variant, and of each protocol.
  const best = new Map<number, Row>();
  const bestSame = new Map<string, Row>();
  for (const r of rows.filter((x) => x.side === 'pytorch')) {
    if (r.ips > (best.get(r.concurrency)?.ips ?? -1)) best.set(r.concurrency, r);
    if (r.ips > (bestSame.get(`${r.protocol} ${r.concurrency}`)?.ips ?? -1)) bestSame.set(`${r.protocol} ${r.concurrency}`, r);
  }
  const same = (r: Row) => bestSame.get(`${r.protocol} ${r.concurrency}`);
  const label = (r: Row) => `${r.server} · ${r.protocol}`;
  if (rows.length > 0) {
    console.log('| Server | Protocol | Concurrency | Requests/s | Images/s | p50 ms | p99 ms | Mean batch | Failed | × best PyTorch | × best PyTorch, same protocol |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const ratio = (b: Row | undefined) => (b && r.side === 'insight' ? `${fmt(r.ips / b.ips, 2)}x` : '—');
      console.log(`| ${r.server} | ${r.protocol} | ${r.concurrency} | ${fmt(r.rps)} | ${fmt(r.ips)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ` +
        `${r.meanBatch === null ? '—' : fmt(r.meanBatch, 1)} | ${r.failures}${r.failureNote ? ` (${r.failureNote})` : ''} | ${ratio(best.get(r.concurrency))} | ${ratio(same(r))} |`);
    }
    console.log('');
    for (const [c, b] of [...best].sort((x, y) => x[0] - y[0])) console.log(`- best PyTorch row at concurrency ${c} (any protocol): ${label(b)}, ${fmt(b.ips)} images/s, p50 ${fmt(b.p50, 2)} ms.`);
  }
  if (answers.length > 1) {
    const diff = Math.max(...answers.slice(1).flatMap((a) => a.row.map((p, i) => Math.abs(p - answers[0].row[i]))));
    console.log(`- the servers' answers to the same first image differ by at most ${diff.toExponential(2)} over ${answers.length} server/protocol pairs (same weights).`);
  }
  if (soaks.length > 0) {
    console.log(`\nMemory soak: insight serve (dynamic batching), concurrency 64 for ${soakSeconds} s per protocol, VmRSS every 250 ms after the warm-up; slope: least squares over the second half.\n`);
    console.log('| Protocol | Images/s | p99 ms | Failed | RSS start MB | RSS end MB | RSS max MB | Slope MB/min |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of soaks) console.log(`| ${s.protocol} | ${fmt(s.ips)} | ${fmt(s.p99, 2)} | ${s.failures} | ${fmt(s.start)} | ${fmt(s.end)} | ${fmt(s.max)} | ${fmt(s.slopeMbPerMin, 2)} |`);
  }

  // The issue's targets, for insight serve with dynamic batching.
  console.log('\nTargets (insight serve, dynamic batching):');
  const insight = rows.filter((r) => r.server === DYNAMIC);
  const line = (met: boolean | null, text: string) => console.log(`- ${met === null ? 'not measured' : met ? 'met' : 'MISSED'}: ${text}`);
  // Concurrency 1: against PyTorch's best row of the same protocol (the same request bytes), else of any protocol (gRPC).
  const b1 = best.get(1);
  for (const r of insight.filter((x) => x.concurrency === 1)) {
    const b = same(r) ?? b1;
    const also = b && b1 && b !== b1 ? `; against the best PyTorch row of any protocol (${label(b1)}): ${fmt(r.ips / b1.ips, 2)}x` : '';
    line(b ? r.ips >= 1.5 * b.ips && r.p50 <= 1 : null, `concurrency 1 over ${r.protocol} >= 1.5x PyTorch${b ? ` (${label(b)})` : ''} with p50 <= 1 ms: ` +
      `${b ? `${fmt(r.ips / b.ips, 2)}x` : 'no PyTorch row'}, p50 ${fmt(r.p50, 2)} ms${also}`);
  }
  if (!insight.some((x) => x.concurrency === 1)) line(null, 'concurrency 1 >= 1.5x PyTorch with p50 <= 1 ms (no concurrency-1 cell)');
  const at64 = (p: Protocol) => insight.find((x) => x.concurrency === 64 && x.protocol === p);
  const json64 = at64('json');
  line(json64 ? json64.ips >= 3000 && json64.p99 <= 50 : null, `concurrency 64 over JSON >= 3,000 images/s with p99 <= 50 ms: ` +
    `${json64 ? `${fmt(json64.ips)} images/s, p99 ${fmt(json64.p99, 2)} ms` : 'no json cell at concurrency 64'}`);
  const fast = (['binary', ...GRPC_PROTOCOLS] as Protocol[]).map(at64).filter((r): r is Row => r !== undefined);
  for (const r of fast) {
    line(r.ips >= 8000 && r.p99 <= 50, `concurrency 64 over ${r.protocol} >= 8,000 images/s with p99 <= 50 ms: ${fmt(r.ips)} images/s, p99 ${fmt(r.p99, 2)} ms`);
  }
  line(fast.length > 0 ? fast.some((r) => r.ips >= 8000 && r.p99 <= 50) : null, 'concurrency 64 over gRPC or binary tensors >= 8,000 images/s with p99 <= 50 ms ' +
    `(any of ${fast.map((r) => r.protocol).join(', ') || 'none measured'})`);
  // Flat: the second half of the run grows by less than 2 MB a minute (GC sawtooth aside) and stays within 10% of its start.
  for (const s of soaks) {
    line(s.slopeMbPerMin < 2 && s.max <= s.start * 1.1 + 16, `memory flat over ${soakSeconds} s of ${s.protocol} at concurrency 64 (second-half slope < 2 MB/min, max <= start + 10% + 16 MB): ` +
      `${fmt(s.slopeMbPerMin, 2)} MB/min, ${fmt(s.start)} → ${fmt(s.end)} MB, max ${fmt(s.max)} MB`);
  }
  if (soaks.length === 0) line(null, 'memory flat over a 60 s run (run with --soak 60)');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
