// Explanation speed, side by side with PyTorch: milliseconds per image for each method on one batch of CIFAR-shaped
// images, Insight's methods (explain/methods, on the `torch` backend) against the same methods written with PyTorch
// autograd and a forward hook (explain_speed.py), on the same architecture (seed-cnn or resnet20, random weights),
// with the same settings: IG 50 steps from a black baseline, SmoothGrad 50 samples, occlusion 8x8 at stride 4, at most
// 64 rows per forward/backward pass. Each round runs PyTorch, then Insight; the table gives the median over rounds of
// each one's median call, so a noisy moment on a shared machine hits both alike.
//   node --conditions=source --import tsx benchmarks/explain_speed.ts [--model seed-cnn] [--batch 64] [--rounds 3]
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

import * as torchBackend from '@insight/tfjs-backend-torch';

import { tf } from '../packages/insight/src/backend';
import { METHOD_DEFAULTS } from '../packages/insight/src/explain/defaults';
import type { ExplainMethod } from '../packages/insight/src/explain/method_names';
import { METHODS } from '../packages/insight/src/explain/methods';
import { createModel } from '../packages/insight/src/models';
import { benchmarkArgs, numberArg } from './args';

const PYTORCH_METHODS = ['saliency', 'gradcam', 'ig', 'smoothgrad', 'occlusion'];
const USAGE = `Usage: node --conditions=source --import tsx benchmarks/explain_speed.ts [options]
  --model <name>                seed-cnn or resnet (resnet20, width 16) (default: seed-cnn)
  --methods <list>              any of ${PYTORCH_METHODS.join(', ')} (default: all)
  --batch <n>                   images per call (default: 64)
  --steps <n>                   ig: points on the path (default: 50)
  --samples <n>                 smoothgrad: noisy copies per image (default: 50)
  --window <px>, --stride <px>  occlusion patch and step (default: 8, 4)
  --internal-batch-size <n>     most rows per forward/backward pass, both sides (default: 64)
  --repeats <n>                 timed calls per method and round, after one warm-up call (default: 3)
  --rounds <n>                  alternating rounds of PyTorch and Insight (default: 3)
  --threads <n>                 libtorch and PyTorch threads (default: all cores)
  --channels-last               PyTorch in channels_last instead of its default NCHW layout`;
const args = benchmarkArgs(USAGE, {
  model: { type: 'string', default: 'seed-cnn' },
  methods: { type: 'string', default: PYTORCH_METHODS.join(',') },
  batch: { type: 'string', default: '64' },
  steps: { type: 'string', default: String(METHOD_DEFAULTS.steps) },
  samples: { type: 'string', default: String(METHOD_DEFAULTS.samples) },
  window: { type: 'string', default: String(METHOD_DEFAULTS.window) },
  stride: { type: 'string', default: String(METHOD_DEFAULTS.stride) },
  'internal-batch-size': { type: 'string', default: String(METHOD_DEFAULTS.internalBatchSize) },
  repeats: { type: 'string', default: '3' },
  rounds: { type: 'string', default: '3' },
  threads: { type: 'string', default: String(os.availableParallelism()) },
  'channels-last': { type: 'boolean', default: false },
});
const model = args.model;
if (model !== 'seed-cnn' && model !== 'resnet') {
  console.error(`--model must be seed-cnn or resnet. Received: model=${JSON.stringify(model)}.`);
  process.exit(2);
}
const methods = args.methods.split(',');
const unknown = methods.filter((m) => !PYTORCH_METHODS.includes(m));
if (unknown.length > 0) {
  console.error(`--methods must list methods of both sides: ${PYTORCH_METHODS.join(', ')}. Received: methods=${JSON.stringify(args.methods)}.`);
  process.exit(2);
}
const batch = numberArg('batch', args.batch);
const options = {
  ...METHOD_DEFAULTS,
  steps: numberArg('steps', args.steps),
  samples: numberArg('samples', args.samples),
  window: numberArg('window', args.window),
  stride: numberArg('stride', args.stride),
  internalBatchSize: numberArg('internal-batch-size', args['internal-batch-size']),
};
const repeats = numberArg('repeats', args.repeats);
const rounds = numberArg('rounds', args.rounds);
const threads = numberArg('threads', args.threads);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One round of Insight: ms per image per method (median of `repeats` calls after one warm-up call). */
async function insightRound(net: ReturnType<typeof createModel>, x: tf.Tensor4D, targets: Int32Array): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of methods) {
    const method = METHODS[name as ExplainMethod];
    const call = async () => {
      const result = await method(net, x, targets, options);
      await result.map.data(); // the work is done when the map can be read
      tf.dispose([result.map, result.attributions]);
    };
    await call();
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      await call();
      times.push(performance.now() - started);
    }
    out[name] = median(times) / batch;
  }
  return out;
}

function pytorchRound(): { torch_version: string; ms_per_image: Record<string, number> } {
  const argv = [path.join(__dirname, 'explain_speed.py'), '--model', model, '--methods', methods.join(','), '--threads', String(threads),
    '--batch', String(batch), '--steps', String(options.steps), '--samples', String(options.samples), '--noise-level', String(options.noiseLevel),
    '--window', String(options.window), '--stride', String(options.stride), '--internal-batch-size', String(options.internalBatchSize),
    '--repeats', String(repeats), ...(args['channels-last'] ? ['--channels-last'] : [])];
  return JSON.parse(execFileSync('/usr/bin/python3', argv, { encoding: 'utf8' }).trim().split('\n').pop()!);
}

async function main() {
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  torchBackend.setNumThreads(threads);
  await tf.setBackend('torch');
  const net = createModel(model, { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
  const predicted = tf.tidy(() => tf.argMax(net.predict(x) as tf.Tensor2D, 1));
  const targets = Int32Array.from(await predicted.data());
  predicted.dispose();
  const ours: Record<string, number[]> = Object.fromEntries(methods.map((m) => [m, []]));
  const theirs: Record<string, number[]> = Object.fromEntries(methods.map((m) => [m, []]));
  let torchVersion = '';
  for (let r = 0; r < rounds; r++) {
    const pt = pytorchRound();
    torchVersion = pt.torch_version;
    const mine = await insightRound(net, x, targets);
    for (const m of methods) {
      theirs[m].push(pt.ms_per_image[m]);
      ours[m].push(mine[m]);
    }
  }
  const layout = args['channels-last'] ? 'channels_last' : 'NCHW';
  console.log(`explanation speed, ${model === 'resnet' ? 'resnet20 (width 16)' : 'seed-cnn'} with random weights, batch ${batch} of ` +
    `32x32x3 images; ig ${options.steps} steps (black baseline), smoothgrad ${options.samples} samples (noise ${options.noiseLevel}), ` +
    `occlusion ${options.window}x${options.window} at stride ${options.stride}; at most ${options.internalBatchSize} rows per pass; ` +
    `median of ${repeats} calls after 1 warm-up, median of ${rounds} alternating rounds; ${threads} threads; ` +
    `Insight (tfjs ${tf.version_core} on torch) vs PyTorch ${torchVersion} ${layout} (autograd + hooks)\n`);
  console.log(`| method | Insight (ms/image) | PyTorch ${layout} (ms/image) | PyTorch / Insight |`);
  console.log('|---|---|---|---|');
  for (const m of methods) {
    const [a, b] = [median(ours[m]), median(theirs[m])];
    console.log(`| ${m === 'ig' ? `ig (${options.steps} steps)` : m === 'smoothgrad' ? `smoothgrad (${options.samples} samples)` : m} | ` +
      `${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)}x |`);
  }
  net.dispose();
  x.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
