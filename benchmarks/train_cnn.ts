// Reference CNN (the Keras CIFAR-10 tutorial network), or with --model resnet the zoo's BatchNorm resnet20 (its
// BatchNorm layers on the fused kernels insight train gives them), trained with tfjs-layers `model.fit` on the `torch`
// backend (fusedAdam; STOCK_ADAM=1 uses tf.train.adam), or with --trainer insight by Insight's own training loop
// (`fit` of packages/insight/src/train/trainer.ts, as insight train runs it: its Adam, its gradient step and update
// replayed natively as captured functions; batches rendered inline from uint8 images), side by side in one run with PyTorch in its best
// configurations on this machine (issue 10, "a fair yardstick"): NCHW, channels_last, channels_last under bf16
// autocast, and for inference torch.jit.trace + freeze + optimize_for_inference in both layouts. Same threads, same
// model, Adam, CIFAR-shaped data, and one environment for both sides: the PyTorch child gets this process's own
// environment (checked: it reports the variables it saw), so MALLOC_*, ATEN_CPU_CAPABILITY and OMP_* reach both;
// with no MALLOC_* variable the child repeats the addon's mallopt tuning so the allocators still behave alike.
// Prints a markdown table of training and inference images/s and tfjs's ratio to PyTorch's best fp32 column (per
// row) and to bf16 autocast.
//   MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=536870912 \
//   node --conditions=source --import tsx benchmarks/train_cnn.ts [--model seed-cnn|resnet] [--threads 2] [--images 6400] [--epochs 3]
//        [--batch-sizes 64,256] [--rounds 3] [--pytorch-modes nchw,cl,cl-bf16,jit-nchw,jit-cl] [--trainer fit|insight]
// (ATEN_CPU_CAPABILITY=avx2 etc. in front chooses ATen's CPU dispatch for both sides; the header says which ran.)
// Each round runs the chosen PyTorch modes and tfjs on torch one after the other; the table gives the median over
// rounds of each one's median epoch, so a noisy moment on this shared machine hits all of them alike.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';

import * as tfl from '@tensorflow/tfjs-layers';

import { buildResnet } from '../packages/insight/src/models/resnet';
import { PRECISIONS, type Precision } from '../packages/insight/src/run/config_fields';
import { withPrecision } from '../packages/insight/src/train/precision';
import { useNativeBatchNorm } from '../packages/insight/src/train/native_batch_norm';
import { requireBinding } from '../packages/tfjs-backend-torch/src/binding';
import { benchmarkArgs, numberArg, numberListArg } from './args';
import { fitOnRandomImages } from './insight_fit';
import { referenceCnn } from './reference_cnn_model';

/** PyTorch's columns: reference_cnn.py flags; jit modes measure inference only; bf16 ones are the second yardstick. */
const MODES = {
  nchw: { label: 'PyTorch NCHW', flags: [], bf16: false },
  cl: { label: 'PyTorch channels_last', flags: ['--channels-last'], bf16: false },
  'cl-bf16': { label: 'PyTorch channels_last + bf16 autocast', flags: ['--channels-last', '--bf16'], bf16: true },
  'jit-nchw': { label: 'PyTorch jit+freeze NCHW', flags: ['--jit'], bf16: false },
  'jit-cl': { label: 'PyTorch jit+freeze channels_last', flags: ['--jit', '--channels-last'], bf16: false },
} as const;
type Mode = keyof typeof MODES;
const MODE_NAMES = Object.keys(MODES) as Mode[];

const USAGE = `Usage: [MALLOC_*=...] [ATEN_CPU_CAPABILITY=...] node --conditions=source --import tsx benchmarks/train_cnn.ts [options]
  --model <name>        seed-cnn (default: the reference CNN) or resnet (resnet20 with BatchNorm), on both sides
  --threads <n>         libtorch and PyTorch threads (default: all cores)
  --images <n>          CIFAR-shaped images per epoch (default: 6400)
  --epochs <n>          measured epochs, after 1 warm-up (default: 3)
  --batch-sizes <list>  one table row pair each (default: 64,256)
  --rounds <n>          alternating rounds of all the runs (default: 3)
  --precisions <list>   tfjs on torch columns: fp32 (default), bf16 (the backend's bfloat16 mixed precision, in
                        training as insight train --precision bf16 runs it, and in inference)
  --pytorch-modes <list> PyTorch columns (default: all): nchw, cl (channels_last), cl-bf16 (channels_last under
                        bf16 autocast), jit-nchw and jit-cl (inference only: jit.trace + freeze + optimize_for_inference)
  --trainer <name>      fit (default): tfjs-layers model.fit, and model.predict for inference; insight: Insight's
                        training loop (captured gradient step and Adam update), and a captured forward pass
Environment: STOCK_ADAM=1 trains with tf.train.adam instead of the fused Adam kernel. Every other variable reaches
both sides alike (MALLOC_*, ATEN_CPU_CAPABILITY, OMP_*).`;
const args = benchmarkArgs(USAGE, {
  model: { type: 'string', default: 'seed-cnn' },
  threads: { type: 'string', default: String(os.availableParallelism()) },
  images: { type: 'string', default: '6400' },
  epochs: { type: 'string', default: '3' },
  'batch-sizes': { type: 'string', default: '64,256' },
  rounds: { type: 'string', default: '3' },
  'pytorch-modes': { type: 'string', default: MODE_NAMES.join(',') },
  precisions: { type: 'string', default: 'fp32' },
  trainer: { type: 'string', default: 'fit' },
});
if (args.trainer !== 'fit' && args.trainer !== 'insight') {
  console.error(`--trainer must be fit or insight. Received: trainer=${JSON.stringify(args.trainer)}.`);
  process.exit(2);
}
const precisions = args.precisions.split(',').map((p) => p.trim()) as Precision[];
if (precisions.length === 0 || precisions.some((p) => !PRECISIONS.includes(p))) {
  console.error(`--precisions takes fp32 and/or bf16. Received: precisions=${JSON.stringify(args.precisions)}.`);
  process.exit(2);
}
const threads = numberArg('threads', args.threads);
const images = numberArg('images', args.images);
const epochs = numberArg('epochs', args.epochs);
const batchSizes = numberListArg('batch-sizes', args['batch-sizes']);
const rounds = numberArg('rounds', args.rounds);
const modes = args['pytorch-modes'].split(',').map((m) => m.trim()).filter((m) => m !== '') as Mode[];
for (const m of modes) {
  if (!(m in MODES)) {
    console.error(`--pytorch-modes takes names from ${MODE_NAMES.join(', ')}. Received: pytorch-modes=${JSON.stringify(args['pytorch-modes'])}.`);
    process.exit(2);
  }
}
if (args.model !== 'seed-cnn' && args.model !== 'resnet') {
  console.error(`--model must be seed-cnn or resnet. Received: model=${JSON.stringify(args.model)}.`);
  process.exit(2);
}
const MODEL_LABEL = args.model === 'resnet' ? 'resnet20 (BatchNorm)' : 'reference CNN';
/** Our side's name in the table: tfjs-layers' loop, or Insight's. */
const OURS = args.trainer === 'insight' ? 'Insight loop' : 'tfjs';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The variables that steer either side (the same prefixes reference_cnn.py reports). */
const STEERING = ['MALLOC_', 'GLIBC_TUNABLES', 'ATEN_', 'OMP_', 'GOMP_', 'KMP_', 'DNNL_', 'ONEDNN_', 'MKL_', 'LD_PRELOAD'];
const steeringEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => STEERING.some((p) => k.startsWith(p))).sort());
/** ATen's CPU dispatch in use ('CPU capability usage: AVX512' in at::show_config()). */
const capabilityOf = (config: string) => /CPU capability usage: (\S+)/.exec(config)?.[1] ?? 'unknown';

interface Rates { train: number | null; infer: number }
interface PyTorchResult extends Rates {
  torch_version: string;
  config: { threads: number; cpu_capability: string; malloc: string; env: Record<string, string>; jit: string | null };
}

/** The model on the tfjs side, compiled as referenceCnn compiles the reference CNN (Adam, cross-entropy from logits). */
function tfjsModel(): tfl.LayersModel {
  const optimizer = process.env.STOCK_ADAM ? 'stock' : 'fused';
  if (args.model === 'seed-cnn') return referenceCnn(optimizer);
  const model = buildResnet({ inputShape: [32, 32, 3], numClasses: 10, depth: 20, width: 16, dropout: 0, seed: 0 });
  model.compile({
    optimizer: optimizer === 'fused' ? torchBackend.fusedAdam(1e-3, 0.9, 0.999, 1e-7) : tf.train.adam(1e-3, 0.9, 0.999, 1e-7),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  useNativeBatchNorm(model);  // as insight train runs it (for the whole benchmark: the model is its own)
  return model;
}

/**
 * Insight's training loop on `images` random uint8 images (Adam 1e-3 as insight train's default, no augmentation),
 * and a captured forward pass for inference, in the backend's compute precision of the moment.
 */
async function insightRun(batchSize: number): Promise<Rates> {
  const model = args.model === 'seed-cnn' ? referenceCnn('fused')
    : buildResnet({ inputShape: [32, 32, 3], numClasses: 10, depth: 20, width: 16, dropout: 0, seed: 0 });
  const state = await fitOnRandomImages(model, { images, batchSize, epochs: epochs + 1,
    precision: torchBackend.getComputePrecision() === 'bfloat16' ? 'bf16' : 'fp32' });
  const trainRates = state.history.slice(1).map((h) => images / h.seconds);  // epoch 1 warms up
  const forward = torchBackend.captureFunction((x: tf.Tensor) => model.apply(x, { training: false }) as tf.Tensor);
  const x = tf.randomUniform([images, 32, 32, 3]);
  const batches = Array.from({ length: Math.ceil(images / batchSize) }, (_, b) =>
    tf.slice(x, [b * batchSize, 0, 0, 0], [Math.min(batchSize, images - b * batchSize), 32, 32, 3]));
  const inferRates: number[] = [];
  for (let e = 0; e <= epochs; e++) {
    const t0 = performance.now();
    for (const batch of batches) forward(batch).dispose();
    if (e > 0) inferRates.push(images / ((performance.now() - t0) / 1000));
  }
  if (forward.stats().replays === 0) throw new Error(`The forward pass was not replayed: ${forward.stats().refusals.join('; ')}`);
  forward.dispose();
  tf.dispose([x, ...batches]);
  model.dispose();
  return { train: median(trainRates), infer: median(inferRates) };
}

/** tfjs on torch, in the backend's compute precision of the moment (training and inference). */
async function tfjsRun(batchSize: number): Promise<Rates> {
  if (args.trainer === 'insight') return insightRun(batchSize);
  const model = tfjsModel();
  const x = tf.randomUniform([images, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([images], 0, 10, 'int32') as tf.Tensor1D, 10);
  const trainRates: number[] = [];
  for (let e = 0; e <= epochs; e++) {
    const t0 = performance.now();
    await model.fit(x, y, { batchSize, epochs: 1, shuffle: false, verbose: 0 });
    if (e > 0) trainRates.push(images / ((performance.now() - t0) / 1000));  // epoch 0 warms up
  }
  const inferRates: number[] = [];
  for (let e = 0; e <= epochs; e++) {
    const t0 = performance.now();
    tf.tidy(() => { model.predict(x, { batchSize }); });
    if (e > 0) inferRates.push(images / ((performance.now() - t0) / 1000));
  }
  tf.dispose([x, y]);
  model.dispose();
  return { train: median(trainRates), infer: median(inferRates) };
}

/** One PyTorch run in a child given this process's environment; stops if the child saw a different one. */
function pytorchRun(batchSize: number, mode: Mode, addonTuned: boolean): PyTorchResult {
  const argv = [path.join(__dirname, 'reference_cnn.py'), '--model', args.model, '--threads', String(threads), '--batch-size', String(batchSize),
    '--images', String(images), '--epochs', String(epochs), ...MODES[mode].flags, ...(addonTuned ? ['--addon-malloc-tuning'] : [])];
  const out = execFileSync('/usr/bin/python3', argv, { encoding: 'utf8', env: process.env });
  const result = JSON.parse(out.trim().split('\n').pop()!) as PyTorchResult;
  const [ours, theirs] = [JSON.stringify(steeringEnv()), JSON.stringify(result.config.env)];
  if (ours !== theirs) throw new Error(`PyTorch (${mode}) ran in another environment. Received: ours=${ours}, PyTorch's=${theirs}.`);
  if (result.config.threads !== threads) throw new Error(`PyTorch (${mode}) ran ${result.config.threads} threads, not ${threads}.`);
  return result;
}

/** What both sides ran with: allocator, ATen dispatch, threads and any other steering variable. */
function environmentLine(tuning: string, capability: string): string {
  const env = steeringEnv();
  const malloc = Object.keys(env).filter((k) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES');
  const allocator = malloc.length > 0 ? malloc.map((k) => `${k}=${env[k]}`).join(' ')
    : tuning.startsWith('tuned') ? `no MALLOC_* variables; the addon's mallopt tuning, repeated in PyTorch (${tuning.slice(7, -1)})`
      : `no MALLOC_* variables; ${tuning}`;
  const aten = `ATEN_CPU_CAPABILITY=${env.ATEN_CPU_CAPABILITY ?? '(unset: default)'}, in use ${capability}`;
  const others = Object.keys(env).filter((k) => !malloc.includes(k) && k !== 'ATEN_CPU_CAPABILITY').map((k) => `${k}=${env[k]}`);
  return `both sides: ${allocator}; ${aten}; ${threads} threads${others.length > 0 ? `; ${others.join(' ')}` : ''}`;
}

async function main() {
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  torchBackend.setNumThreads(threads);
  await tf.setBackend('torch');
  const tuning = torchBackend.mallocTuning();
  const addonTuned = tuning.startsWith('tuned');
  const capability = capabilityOf(requireBinding().version().config);
  const rows: string[] = [];
  let torchVersion = '';
  const jitSteps = new Set<string>();
  for (const bs of batchSizes) {
    type Key = Mode | Precision;
    const runs = new Map<Key, { train: number[]; infer: number[] }>();
    const record = (key: Key, result: Rates) => {
      const entry = runs.get(key) ?? runs.set(key, { train: [], infer: [] }).get(key)!;
      if (result.train !== null) entry.train.push(result.train);
      entry.infer.push(result.infer);
    };
    for (let r = 0; r < rounds; r++) {
      for (const mode of modes) {
        const result = pytorchRun(bs, mode, addonTuned);
        if (result.config.cpu_capability !== capability) {
          throw new Error(`PyTorch ran ATen's ${result.config.cpu_capability} kernels, tfjs on torch ${capability}.`);
        }
        torchVersion = result.torch_version;
        if (result.config.jit !== null) jitSteps.add(result.config.jit);
        record(mode, result);
        console.error(`  batch ${bs}, round ${r + 1}, ${MODES[mode].label}: train ${result.train?.toFixed(0) ?? '-'}, infer ${result.infer.toFixed(0)} img/s`);
      }
      for (const precision of precisions) {
        const ours = await withPrecision(precision, () => tfjsRun(bs));
        record(precision, ours);
        console.error(`  batch ${bs}, round ${r + 1}, ${OURS} on torch ${precision}: train ${ours.train!.toFixed(0)}, infer ${ours.infer.toFixed(0)} img/s`);
      }
    }
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(0));
    for (const phase of ['train', 'infer'] as const) {
      const value = (key: Key) => (runs.get(key)![phase].length > 0 ? median(runs.get(key)![phase]) : null);
      /** tfjs in `precision` / the fastest of these PyTorch modes (bf16 ones or not) in this row, with which one it was. */
      const versus = (precision: Precision, bf16: boolean) => {
        const ours = value(precision)!;
        const candidates = modes.filter((m) => MODES[m].bf16 === bf16 && value(m) !== null);
        if (candidates.length === 0) return '-';
        const best = candidates.reduce((a, b) => (value(b)! > value(a)! ? b : a));
        return `${(ours / value(best)!).toFixed(2)}x${candidates.length > 1 ? ` (${best})` : ''}`;
      };
      rows.push(`| ${bs} | ${phase} | ${precisions.map((p) => f(value(p))).join(' | ')} | ${modes.map((m) => f(value(m))).join(' | ')} | ` +
        `${precisions.map((p) => `${versus(p, false)} | ${versus(p, true)}`).join(' | ')} |`);
    }
  }
  console.log(`${MODEL_LABEL}, ${images} CIFAR-shaped images per epoch, images/s: median of ${epochs} epochs after 1 warm-up, ` +
    `median of ${rounds} alternating rounds; tfjs ${tf.version_core} on torch (libtorch ${torchVersion}, ` +
    `${args.trainer === 'insight' ? 'Insight\'s training loop: captured step, its Adam' : process.env.STOCK_ADAM ? 'model.fit, tf.train.adam' : 'model.fit, fusedAdam'}) ` +
    `vs PyTorch ${torchVersion}` +
    `${jitSteps.size > 0 ? ` (jit: ${[...jitSteps].join(', ')})` : ''}`);
  console.log(`${environmentLine(tuning, capability)}\n`);
  const tag = (p: Precision) => (p === 'bf16' ? ' bf16' : '');
  console.log(`| batch | phase | ${precisions.map((p) => `${OURS} on torch${tag(p)}`).join(' | ')} | ${modes.map((m) => MODES[m].label).join(' | ')} | ` +
    `${precisions.map((p) => `${OURS}${tag(p)} vs PyTorch best fp32 | ${OURS}${tag(p)} vs PyTorch bf16 autocast`).join(' | ')} |`);
  console.log(`|---|---|${'---:|'.repeat(modes.length + 3 * precisions.length)}`);
  for (const row of rows) console.log(row);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
