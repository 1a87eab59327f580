// Where a training step's time goes: wraps every kernel registered for `torch` with a timer, trains the
// reference CNN (fusedAdam, batch 64) or the zoo's resnet20 (SGD momentum 0.9, batch 128) with model.fit and prints
// per-step kernel wall times and the time outside kernels.
//   INSIGHT_TORCH_THREADS=1 node --conditions=source --import tsx benchmarks/step_profile.ts [--model resnet] [--steps 40]
import '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';

import * as tfl from '@tensorflow/tfjs-layers';

import { buildResnet } from '../packages/insight/src/models/resnet';
import { useNativeBatchNorm } from '../packages/insight/src/train/native_batch_norm';
import { benchmarkArgs, numberArg } from './args';
import { referenceCnn } from './reference_cnn_model';

const USAGE = `Usage: INSIGHT_TORCH_THREADS=1 node --conditions=source --import tsx benchmarks/step_profile.ts [options]
  --model <name>  seed-cnn (default: the reference CNN, batch 64) or resnet (resnet20, batch 128)
  --steps <n>     measured training steps, after a warm-up epoch of as many (default: 40)
  --tfjs-batch-norm  BatchNormalization on tfjs-layers' own ops instead of the fused kernels insight train uses`;
const args = benchmarkArgs(USAGE, {
  steps: { type: 'string', default: '40' }, model: { type: 'string', default: 'seed-cnn' }, 'tfjs-batch-norm': { type: 'boolean', default: false },
});
const steps = numberArg('steps', args.steps);
if (args.model !== 'seed-cnn' && args.model !== 'resnet') {
  console.error(`--model must be seed-cnn or resnet. Received: model=${JSON.stringify(args.model)}.`);
  process.exit(2);
}
const batch = args.model === 'resnet' ? 128 : 64;

/** resnet20 (width 16) compiled with SGD momentum 0.9 and softmax cross-entropy from logits, as the zoo trains it. */
function resnet20(): tfl.LayersModel {
  const model = buildResnet({ inputShape: [32, 32, 3], numClasses: 10, depth: 20, width: 16, dropout: 0, seed: 0 });
  model.compile({
    optimizer: tf.train.momentum(0.05, 0.9),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    metrics: ['accuracy'],
  });
  return model;
}
const totals = new Map<string, { calls: number; ms: number }>();

for (const k of tf.getKernelsForBackend('torch')) {
  const inner = k.kernelFunc;
  (k as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
    const t0 = performance.now();
    const out = inner(args);
    const entry = totals.get(k.kernelName) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += performance.now() - t0;
    totals.set(k.kernelName, entry);
    return out;
  };
}

async function main() {
  await tf.setBackend('torch');
  const model = args.model === 'resnet' ? resnet20() : referenceCnn();
  if (!args['tfjs-batch-norm']) useNativeBatchNorm(model);
  const n = batch * steps;
  const x = tf.randomUniform([n, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32') as tf.Tensor1D, 10);
  await model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0 });  // warm-up
  totals.clear();
  const t0 = performance.now();
  await model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0 });
  const stepMs = (performance.now() - t0) / steps;
  const kernelMs = [...totals.values()].reduce((s, e) => s + e.ms, 0) / steps;
  console.log(`${args.model} batch ${batch}: ${stepMs.toFixed(2)} ms per step (${(batch * 1000 / stepMs).toFixed(0)} img/s), ` +
    `${kernelMs.toFixed(2)} ms in kernels, ${(stepMs - kernelMs).toFixed(2)} ms outside (engine, tape, fit loop)\n`);
  console.log('| kernel | calls/step | ms/step | share of step |\n|---|---|---|---|');
  for (const [name, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 24)) {
    console.log(`| ${name} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(3)} | ${(100 * e.ms / steps / stepMs).toFixed(1)}% |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
