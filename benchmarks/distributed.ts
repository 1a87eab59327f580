// Scale-out training (issue 16), three parts:
//   throughput  `insight train` as 1 process x 2 threads against `insight launch --nproc-per-node 2
//               --threads-per-proc 1 -- train` (2 processes x 1 thread, gradients averaged over Gloo) on the same
//               images, epochs and global batch; images/s from each run's metrics.jsonl (epochs after the first).
//   allreduce   the time of one allreduce of each model's gradient bytes between 2 processes over loopback (Gloo),
//               median of --rounds, and of a 4-byte allreduce (the per-collective latency floor). Training sends
//               the same bytes in buckets of up to 4 MB plus a 12-byte allreduce of the batch sums, reduced
//               concurrently; the throughput part reports what rank 0 actually waits per step.
//   projection  for each model: one training step (forward, backward, Adam) at the per-node batch on this box's 2
//               threads, the gradient bytes, and the scaling efficiency of N nodes of this kind joined by 1 and 10 GbE:
//               a ring allreduce moves 2(N-1)/N of the bytes through each node's link, plus 2(N-1) hops, each costing
//               the latency measured here (half the 4-byte allreduce between 2 processes: Gloo's own per-hop cost,
//               far above a 10 GbE link's); efficiency = step / (step + allreduce), no overlap with the backward pass.
// Models: seed-cnn (the reference CNN), resnet (resnet20) and the fast-recipe network (airbench94's layout: 2x2
// whitening conv 24, then conv groups of 64/256/256 with BatchNorm and GELU; defined here until the zoo has it).
//   node --conditions=source --import tsx benchmarks/distributed.ts [--parts throughput,allreduce,projection]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../packages/insight/src/backend';
import { createModel } from '../packages/insight/src/models';
import { freeLocalPort } from '../packages/insight/src/process/launch/free_port';
import { gradientStep } from '../packages/insight/src/train/gradient_step';
import { Adam, paramsOf } from '../packages/insight/src/train/optimizers';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/distributed.ts [options]
  --parts <list>       throughput,allreduce,projection (default: all three)
  --data <archive>     CIFAR-10 for the throughput part (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --images <n>         training images for the throughput part (default: 6400)
  --epochs <n>         epochs per throughput run; the first is warm-up (default: 3)
  --rounds <n>         allreduce repetitions and timed steps per model (default: 20)
  --throughput-rounds <n>  alternating pairs of throughput runs (default: 3)
  --models <list>      seed-cnn,resnet,fast (default: all three)`;
const args = benchmarkArgs(USAGE, {
  parts: { type: 'string', default: 'throughput,allreduce,projection' },
  data: { type: 'string', default: path.join(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  images: { type: 'string', default: '6400' },
  epochs: { type: 'string', default: '3' },
  rounds: { type: 'string', default: '20' },
  'throughput-rounds': { type: 'string', default: '3' },
  models: { type: 'string', default: 'seed-cnn,resnet,fast' },
  role: { type: 'string', default: '' },  // internal: 'allreduce-rank' for the processes the allreduce part starts
  sizes: { type: 'string', default: '' },  // internal: byte counts for an allreduce rank
});
const rounds = numberArg('rounds', args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'packages', 'insight', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', 'tsx'];

/** Per-node batch of each model in the projection (the reference recipe's 64; airbench's 1024 over 4 nodes). */
const PER_NODE_BATCH: Record<string, number> = { 'seed-cnn': 64, resnet: 128, fast: 256 };

function fastRecipeNetwork(): tfl.LayersModel {
  const conv = (filters: number) => tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false });
  const group = (filters: number) => [
    conv(filters), tfl.layers.maxPooling2d({ poolSize: 2 }), tfl.layers.batchNormalization(), tfl.layers.activation({ activation: 'gelu' }),
    conv(filters), tfl.layers.batchNormalization(), tfl.layers.activation({ activation: 'gelu' }),
  ];
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 24, kernelSize: 2, padding: 'valid', useBias: true }),
      tfl.layers.activation({ activation: 'gelu' }),
      ...group(64), ...group(256), ...group(256),
      tfl.layers.globalMaxPooling2d({}),
      tfl.layers.dense({ units: 10, useBias: false }),
    ],
  });
}

function modelNamed(name: string): tfl.LayersModel {
  if (name === 'fast') return fastRecipeNetwork();
  return createModel(name, { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
}

const gradientBytes = (model: tfl.LayersModel) => model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0) * 4;


// ---- allreduce: one rank of two (started by allreducePart) ----------------------------------------------------

async function allreduceRank(): Promise<void> {
  await tf.setBackend('torch');
  const group = await torchBackend.ProcessGroup.fromEnv();
  const out: Record<string, number> = {};
  for (const bytes of args.sizes.split(',').map(Number)) {
    const t = tf.zeros([Math.max(1, bytes / 4)]);
    const times: number[] = [];
    for (let r = 0; r < rounds + 3; r++) {
      await group.barrier();
      const started = performance.now();
      const [s] = await group.allreduce([t], 'avg');
      if (r >= 3) times.push(performance.now() - started);
      s.dispose();
    }
    t.dispose();
    out[String(bytes)] = median(times);
  }
  group.close();
  if (group.rank === 0) console.log(JSON.stringify(out));
}

async function allreducePart(sizes: number[]): Promise<Record<string, number>> {
  const port = await freeLocalPort();
  const ranks = [0, 1].map((rank) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, __filename, '--role', 'allreduce-rank', '--sizes', sizes.join(','), '--rounds', String(rounds)], {
      env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: '2', INSIGHT_TORCH_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`allreduce rank ${rank} exited with ${code}`))));
  }));
  const [zero] = await Promise.all(ranks);
  return JSON.parse(zero.trim().split('\n').pop()!) as Record<string, number>;
}

// ---- projection: one node's step time --------------------------------------------------------------------------

async function stepMs(name: string): Promise<{ ms: number; bytes: number; params: number }> {
  const model = modelNamed(name);
  const batch = PER_NODE_BATCH[name];
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const optimizer = new Adam(paramsOf(variables));
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const step = () => {
    const started = performance.now();
    const result = gradientStep(model, variables, x, y, 0);
    optimizer.apply(result.grads, 1e-3);
    result.loss.dataSync();
    tf.dispose([result.loss, result.correct, ...result.grads]);
    return performance.now() - started;
  };
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < Math.max(5, Math.min(rounds, name === 'fast' ? 8 : rounds)); i++) times.push(step());
  const bytes = gradientBytes(model);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { ms: median(times), bytes, params: bytes / 4 };
}

/** Ring allreduce over N nodes: each link carries 2(N-1)/N of the bytes; 2(N-1) steps each pay the hop latency. */
function ringMs(bytes: number, nodes: number, gbitPerS: number, latencyMs: number): number {
  return (2 * (nodes - 1) / nodes) * bytes * 8 / (gbitPerS * 1e9) * 1e3 + 2 * (nodes - 1) * latencyMs;
}

// ---- throughput: 1 x 2 threads against 2 x 1 thread ------------------------------------------------------------

interface Throughput { imagesPerSecond: number; allreduceMsPerStep?: number }

function trainRun(label: string, launcher: string[], runsDir: string): Throughput {
  const trainArgs = ['train', '--data', args.data, '--limit', args.images, '--validation-count', '0', '--monitor', 'loss',
    '--epochs', args.epochs, '--batch-size', '64', '--runs-dir', runsDir, '--progress', 'log'];
  const started = performance.now();
  const result = spawnSync(process.execPath, [...NODE_FLAGS, BIN, ...launcher, ...trainArgs], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, INSIGHT_TORCH_THREADS: launcher.length > 0 ? '1' : '2' },
  });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${label} failed (${result.status}):\n${result.stderr}`);
  const runs = fs.readdirSync(runsDir).filter((d) => fs.existsSync(path.join(runsDir, d, 'metrics.jsonl')));
  const run = runs.map((d) => path.join(runsDir, d)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  const epochs = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { type: string; imagesPerSecond: number; allreduceSeconds?: number })
    .filter((e) => e.type === 'epoch').slice(1);
  const steps = Math.ceil(Number(args.images) / 64);
  const timed = epochs.map((e) => e.imagesPerSecond);
  const allreduce = epochs.every((e) => e.allreduceSeconds !== undefined) ? median(epochs.map((e) => e.allreduceSeconds! * 1000 / steps)) : undefined;
  console.log(`  ${label}: ${timed.map((v) => v.toFixed(0)).join(', ')} img/s (epochs 2..)` +
    `${allreduce === undefined ? '' : `, rank 0 waits ${allreduce.toFixed(2)} ms a step for the allreduce`}, wall ${wall.toFixed(1)} s`);
  return { imagesPerSecond: median(timed), allreduceMsPerStep: allreduce };
}

async function main(): Promise<void> {
  if (args.role === 'allreduce-rank') return allreduceRank();
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  const parts = new Set(args.parts.split(','));
  const models = args.models.split(',');
  console.log(`${os.cpus()[0].model}, ${os.availableParallelism()} cores; libtorch ${torchBackend.isAvailable ? 'torch backend' : ''}\n`);

  if (parts.has('throughput')) {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-distributed-'));
    console.log(`throughput: seed-cnn, ${args.images} images, ${args.epochs} epochs, global batch 64, alternating`);
    const one: number[] = [];
    const two: number[] = [];
    const waits: number[] = [];
    for (let round = 0; round < Number(args['throughput-rounds']); round++) {
      one.push(trainRun('1 process x 2 threads', [], runsDir).imagesPerSecond);
      const parallel = trainRun('2 processes x 1 thread', ['launch', '--nproc-per-node', '2', '--threads-per-proc', '1', '--'], runsDir);
      two.push(parallel.imagesPerSecond);
      waits.push(parallel.allreduceMsPerStep ?? NaN);
    }
    console.log('\n| configuration | images/s (median) | allreduce wait per step, rank 0 (ms) |\n|---|---:|---:|');
    console.log(`| 1 process x 2 threads | ${median(one).toFixed(0)} | — |\n| 2 processes x 1 thread (Gloo allreduce) | ${median(two).toFixed(0)} | ${median(waits).toFixed(2)} |`);
    console.log(`2x1 / 1x2 = ${(median(two) / median(one)).toFixed(2)}\n`);
    fs.rmSync(runsDir, { recursive: true, force: true });
  }

  await tf.setBackend('torch');
  const sizes = models.map((m) => { const model = modelNamed(m); const b = gradientBytes(model); model.dispose(); return b; });
  let measured: Record<string, number> = {};
  if (parts.has('allreduce') || parts.has('projection')) {
    measured = await allreducePart([4, ...sizes]);
    console.log('allreduce between 2 processes over loopback (Gloo, median of rounds):\n\n| model | gradient bytes | allreduce (ms) |\n|---|---:|---:|');
    console.log(`| (latency, 4 bytes) | 4 | ${measured['4'].toFixed(3)} |`);
    models.forEach((m, i) => console.log(`| ${m} | ${sizes[i].toLocaleString('en-US')} | ${measured[String(sizes[i])].toFixed(2)} |`));
    console.log('');
  }
  if (parts.has('projection')) {
    const hopMs = measured['4'] / 2;  // 2 processes: a ring allreduce of 2 hops
    console.log(`projection (step on this box with ${torchBackend.getNumThreads()} threads; ring allreduce, ${(hopMs * 1000).toFixed(0)} us per hop as measured above; no overlap):\n`);
    console.log('| model | per-node batch | step (ms) | gradient MB | allreduce 4 nodes 1 GbE (ms) | 10 GbE (ms) | efficiency 2 / 4 / 8 nodes, 1 GbE | 2 / 4 / 8 nodes, 10 GbE |');
    console.log('|---|---:|---:|---:|---:|---:|---|---|');
    for (const m of models) {
      const { ms, bytes } = await stepMs(m);
      const eff = (nodes: number, gbit: number) => ms / (ms + ringMs(bytes, nodes, gbit, hopMs));
      const row = (gbit: number) => [2, 4, 8].map((n) => `${(100 * eff(n, gbit)).toFixed(1)}%`).join(' / ');
      console.log(`| ${m} | ${PER_NODE_BATCH[m]} | ${ms.toFixed(1)} | ${(bytes / 1e6).toFixed(2)} | ${ringMs(bytes, 4, 1, hopMs).toFixed(2)} | ` +
        `${ringMs(bytes, 4, 10, hopMs).toFixed(2)} | ${row(1)} | ${row(10)} |`);
    }
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
