// Where a served request's time goes: `insight serve` (seed-cnn, random weights, 32x32x3 → 10) runs under V8's CPU
// profiler while a closed-loop client sends one image per request; the samples taken during the measured window are
// sorted by the code they were in (parse, validate, tensors and forward pass, queue, serialise, log, metrics,
// framework, gRPC, GC, idle) and divided by the requests answered in it, giving CPU microseconds per request by stage
// on the server's main thread. One server per (protocol, concurrency) cell, so each profile holds one cell.
//   node --conditions=source --import tsx benchmarks/request_profile.ts [--protocols json,binary,grpc-kserve]
//     [--concurrency 1,64] [--duration 5] [--threads <n>] [--grpc-channels 1]
// Profiles of the main thread only: libtorch's own worker threads (compute threads > 1) are not in it. The client
// shares the machine (its time is not in the table, but its CPU use slows the server's).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createModel, initBackend, saveModel } from '@insight/insight';

import { benchmarkArgs, numberArg, numberListArg } from './args';
import { GRPC_PROTOCOLS, grpcLoad, grpcMethod, type GrpcProtocol } from './serve_grpc_load';

interface AutocannonResult { requests: { total: number }; non2xx: number; errors: number }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon: (options: Record<string, unknown>) => Promise<AutocannonResult> = require('autocannon');

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/request_profile.ts [options]
  --protocols <list>    json (TF Serving :predict), binary (KServe v2 binary tensors), grpc-kserve (default: json,binary,grpc-kserve)
  --concurrency <list>  client connections, one server and profile per cell (default: 1,64)
  --duration <s>        seconds of the measured window (default: 5)
  --threads <n>         the server's compute threads (default: cores - 1, at least 1)
  --grpc-channels <n>   HTTP/2 connections of the gRPC client (default: 1)`;
const args = benchmarkArgs(USAGE, {
  protocols: { type: 'string', default: 'json,binary,grpc-kserve' },
  concurrency: { type: 'string', default: '1,64' },
  duration: { type: 'string', default: '5' },
  threads: { type: 'string', default: String(Math.max(1, os.availableParallelism() - 1)) },
  'grpc-channels': { type: 'string', default: '1' },
});
const PROTOCOLS = ['json', 'binary', ...GRPC_PROTOCOLS] as const;
type Protocol = (typeof PROTOCOLS)[number];
const protocols = args.protocols.split(',').map((p) => {
  if (!(PROTOCOLS as readonly string[]).includes(p)) throw new Error(`--protocols takes ${PROTOCOLS.join(', ')}. Received: ${p}.`);
  return p as Protocol;
});
const concurrencies = numberListArg('concurrency', args.concurrency);
const duration = numberArg('duration', args.duration);
const threads = numberArg('threads', args.threads);
const grpcChannels = numberArg('grpc-channels', args['grpc-channels']);
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'packages', 'insight', 'bin', 'insight.js');
const MODEL = 'seed-cnn';
const MALLOC = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '536870912' };

/** Stages, in table order: the first whose test matches a sample's frame (url, function) takes it. */
const STAGES: { name: string; test: (url: string, fn: string) => boolean }[] = [
  { name: 'parse (JSON / binary split)', test: (u) => /serve\/(inputs\/dense_json|http\/json_parser)\.ts|content-type-parser/.test(u) },
  { name: 'validate + copy into the batch', test: (u) => /serve\/inputs\/|serve\/routes\/shared\.ts/.test(u) && !/decode_image/.test(u) },
  { name: 'tensors + forward pass (tfjs, libtorch)', test: (u) => /tfjs-backend-torch|tfjs-core|tfjs-layers|tf-core|tf-layers|serve\/repository\/servable\.ts/.test(u) },
  { name: 'queue (dynamic batcher)', test: (u) => /serve\/batching\//.test(u) },
  { name: 'serialise the answer', test: (u, f) => /fast-json-stringify|fastify\/lib\/reply\.js|serve\/routes\/v|binary_tensors/.test(u) || f === 'stringify' },
  { name: 'log (pino)', test: (u) => /pino|sonic-boom/.test(u) },
  { name: 'metrics (prom-client)', test: (u) => /prom-client/.test(u) || /serve\/metrics\.ts/.test(u) },
  { name: 'gRPC (grpc-js, protobuf)', test: (u) => /@grpc|protobufjs|serve\/grpc\//.test(u) },
  { name: 'framework (fastify, hooks, node http)', test: (u) => /fastify|avvio|find-my-way|light-my-request|serve\/http\/|serve\/limits\/|serve\/auth\/|node:_http|node:net|node:internal\/(streams|http|stream_base|timers|process\/task_queues|async_hooks)|node:events/.test(u) },
  { name: 'garbage collector', test: (_u, f) => f === '(garbage collector)' },
  { name: 'idle (waiting for I/O or the pass)', test: (_u, f) => f === '(idle)' },
];
const OTHER = 'other (node internals, program)';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds of samples per stage within [fromUs, toUs] (the profile's clock: CLOCK_MONOTONIC, as hrtime's). */
function stageTimes(profile: CpuProfile, fromUs: number, toUs: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    // A native or anonymous frame belongs to the first ancestor a stage claims (JSON.parse → its caller).
    let stage = OTHER;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const hit = STAGES.find((s) => s.test(url, functionName));
      if (hit) {
        stage = hit.name;
        break;
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const out = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) return;
    const stage = classify(id);
    out.set(stage, (out.get(stage) ?? 0) + profile.timeDeltas[i]);
  });
  return out;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function startServer(profileDir: string, repo: string, grpcOn: boolean): Promise<{ child: ChildProcess; url: string; grpc: string | null }> {
  const nodeFlags = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href, '--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'serve', '--models', repo, '--port', '0', '--log-level', 'warn', '--rate-limit', '0',
    '--max-batch-size', '64', '--max-queue-delay-ms', '0', '--max-queue-size', '1024', '--timeout-ms', '60000', '--compute-threads', String(threads),
    ...(grpcOn ? ['--grpc-port', '0'] : [])], { env: { ...process.env, ...MALLOC, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 120 s:\n${output}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string; grpc?: string };
          if (parsed.msg === 'insight serve ready' && parsed.url) {
            clearTimeout(timer);
            resolve({ child, url: parsed.url, grpc: parsed.grpc ?? null });
            return;
          }
        } catch { /* a partial line */ }
      }
    });
    child.stderr!.resume();
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** One closed-loop run; resolves with the requests answered. */
async function load(protocol: Protocol, target: { url: string; grpc: string | null }, bodies: { json: string; binary: Buffer; headerLength: number; image: Float32Array },
  connections: number, seconds: number): Promise<{ answered: number; failed: number }> {
  if (protocol === 'json' || protocol === 'binary') {
    const json = protocol === 'json';
    const r = await autocannon({
      url: json ? `${target.url}/v1/models/${MODEL}:predict` : `${target.url}/v2/models/${MODEL}/infer`, method: 'POST', connections, duration: seconds, timeout: 30,
      headers: json ? { 'content-type': 'application/json' } : { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(bodies.headerLength) },
      body: json ? bodies.json : bodies.binary,
    });
    return { answered: r.requests.total - r.non2xx, failed: r.non2xx + r.errors };
  }
  if (target.grpc === null) throw new Error('the server printed no gRPC address');
  const method = grpcMethod(protocol as GrpcProtocol, MODEL, bodies.image, [32, 32, 3]);
  const r = await grpcLoad(target.grpc, method, { concurrency: connections, seconds, channels: grpcChannels });
  return { answered: r.ok, failed: r.failures };
}

async function main() {
  await initBackend();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-request-profile-'));
  const repo = path.join(work, 'models');
  const model = createModel(MODEL, { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  await saveModel(model, path.join(repo, MODEL, '1'));
  model.dispose();
  let state = 7;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 10000) / 10000;
  };
  // Values with 4 decimals, as benchmarks/serve.ts sends (~25 KB of JSON); the binary body carries the same numbers.
  const values = Array.from({ length: 32 * 32 * 3 }, next);
  const image = Float32Array.from(values);
  const nested = Array.from({ length: 32 }, (_, y) => Array.from({ length: 32 }, (_, x) => values.slice((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)));
  const header = JSON.stringify({ inputs: [{ name: 'image', shape: [1, 32, 32, 3], datatype: 'FP32', parameters: { binary_data_size: image.byteLength } }],
    outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] });
  const bodies = { json: JSON.stringify({ instances: [nested] }), binary: Buffer.concat([Buffer.from(header), Buffer.from(image.buffer)]), headerLength: Buffer.byteLength(header), image };

  const rows: { protocol: Protocol; concurrency: number; perRequest: Map<string, number>; rps: number }[] = [];
  try {
    for (const protocol of protocols) {
      for (const c of concurrencies) {
        const profileDir = path.join(work, `profile-${protocol}-${c}`);
        const server = await startServer(profileDir, repo, protocol.startsWith('grpc'));
        let window: { from: number; to: number; answered: number };
        try {
          await load(protocol, server, bodies, Math.min(16, c * 4), 2); // warm-up: JIT, kernels, connections
          await load(protocol, server, bodies, c, 2); // and the batch sizes of this concurrency (each recorded twice)
          const from = nowUs();
          const { answered, failed } = await load(protocol, server, bodies, c, duration);
          window = { from, to: nowUs(), answered };
          if (failed > 0) console.error(`  ${protocol} c=${c}: ${failed} requests failed`);
          if (answered === 0) throw new Error(`${protocol} c=${c}: no request answered`);
        } finally {
          await stopServer(server.child);
        }
        const file = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f))
          .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
        const times = stageTimes(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, window.from, window.to);
        const perRequest = new Map([...times].map(([k, us]) => [k, us / window.answered]));
        const rps = window.answered / ((window.to - window.from) / 1e6);
        rows.push({ protocol, concurrency: c, perRequest, rps });
        console.error(`  ${protocol} c=${c}: ${rps.toFixed(0)} req/s`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const stages = [...STAGES.map((s) => s.name), OTHER];
  console.log(`\nCPU µs per request on the server's main thread (seed-cnn, one 32x32x3 image per request, ${threads} compute thread(s), ` +
    `${duration} s per cell, node ${process.version}, ${os.availableParallelism()} cores shared with the client):\n`);
  console.log(`| Stage | ${rows.map((r) => `${r.protocol} c=${r.concurrency}`).join(' | ')} |`);
  console.log(`|---|${rows.map(() => '---:').join('|')}|`);
  for (const stage of stages) console.log(`| ${stage} | ${rows.map((r) => (r.perRequest.get(stage) ?? 0).toFixed(0)).join(' | ')} |`);
  const busy = (r: (typeof rows)[number]) => [...r.perRequest].filter(([k]) => !k.startsWith('idle')).reduce((a, [, v]) => a + v, 0);
  console.log(`| **busy total** | ${rows.map((r) => `**${busy(r).toFixed(0)}**`).join(' | ')} |`);
  console.log(`| requests/s | ${rows.map((r) => r.rps.toFixed(0)).join(' | ')} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
