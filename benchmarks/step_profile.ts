// Where a training step's time goes: wraps every kernel registered for `torch` with a timer, trains the
// reference CNN with model.fit (fusedAdam) and prints per-step kernel wall times and the time outside kernels.
//   INSIGHT_TORCH_THREADS=1 node --conditions=source --import tsx benchmarks/step_profile.ts [--steps 40]
import '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';

import { benchmarkArgs, numberArg } from './args';
import { referenceCnn } from './reference_cnn_model';

const USAGE = `Usage: INSIGHT_TORCH_THREADS=1 node --conditions=source --import tsx benchmarks/step_profile.ts [options]
  --steps <n>   measured training steps of batch 64, after a warm-up epoch of as many (default: 40)`;
const args = benchmarkArgs(USAGE, { steps: { type: 'string', default: '40' } });
const steps = numberArg('steps', args.steps);
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
  const model = referenceCnn();
  const n = 64 * steps;
  const x = tf.randomUniform([n, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32') as tf.Tensor1D, 10);
  await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });  // warm-up
  totals.clear();
  const t0 = performance.now();
  await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });
  const stepMs = (performance.now() - t0) / steps;
  const kernelMs = [...totals.values()].reduce((s, e) => s + e.ms, 0) / steps;
  console.log(`batch 64: ${stepMs.toFixed(2)} ms per step (${(64000 / stepMs).toFixed(0)} img/s), ` +
    `${kernelMs.toFixed(2)} ms in kernels, ${(stepMs - kernelMs).toFixed(2)} ms outside (engine, tape, fit loop)\n`);
  console.log('| kernel | calls/step | ms/step | share of step |\n|---|---|---|---|');
  for (const [name, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
    console.log(`| ${name} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(3)} | ${(100 * e.ms / steps / stepMs).toFixed(1)}% |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
