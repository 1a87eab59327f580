// Long-training leak check: trains the reference CNN for many steps on the `torch` backend and samples the
// process RSS, tf.memory() tensors and live native tensors. Prints a table; the last two columns must stay flat.
//   node --expose-gc --conditions=source --import tsx benchmarks/memory_soak.ts [--steps 3000] [--every 250]
// With --expose-gc, a full GC runs before each sample, so RSS and the JS heap show what is really retained.
import * as tf from '@tensorflow/tfjs-core';

import { benchmarkArgs, numberArg } from './args';
import { referenceCnn } from './reference_cnn_model';

const USAGE = `Usage: node --expose-gc --conditions=source --import tsx benchmarks/memory_soak.ts [options]
  --steps <n>     training steps of batch 64 (default: 3000)
  --every <n>     steps between samples (default: 250)`;
const args = benchmarkArgs(USAGE, { steps: { type: 'string', default: '3000' }, every: { type: 'string', default: '250' } });
const steps = numberArg('steps', args.steps);
const every = numberArg('every', args.every);

async function main() {
  await tf.setBackend('torch');
  const model = referenceCnn();
  const x = tf.randomUniform([64 * every, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([64 * every], 0, 10, 'int32') as tf.Tensor1D, 10);
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  const gc = (globalThis as { gc?: () => void }).gc;
  console.log(`| step | RSS (MiB) | JS heap (MiB) | native (MiB) | tf tensors | native tensors |`);
  console.log(`|---|---|---|---|---|---|`);
  const t0 = performance.now();
  for (let done = 0; done < steps; done += every) {
    await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });
    gc?.();
    const m = tf.memory() as tf.MemoryInfo & { numBytesInNative: number; numNativeTensors: number };
    const usage = process.memoryUsage();
    console.log(`| ${done + every} | ${mb(usage.rss)} | ${mb(usage.heapUsed)} | ${mb(m.numBytesInNative)} | ${m.numTensors} | ` +
      `${m.numNativeTensors} |`);
  }
  console.log(`\n${steps} steps of batch 64 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
