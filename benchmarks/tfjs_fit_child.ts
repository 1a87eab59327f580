// One measured run of a plain TensorFlow.js training loop on the torch backend, for benchmarks that compare process
// settings (malloc_tuning.ts, contention.ts): the reference CNN with tfjs's model.fit and tf.train.adam, batch 64, 20
// warm-up steps, then <steps> timed steps. Prints one JSON line (FitChildResult).
//   node --conditions=source --import tsx benchmarks/tfjs_fit_child.ts <steps>
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as torch from '@insight/tfjs-backend-torch';

import { referenceCnn } from './reference_cnn_model';

export const FIT_CHILD = path.join(__dirname, 'tfjs_fit_child.ts');

export interface FitChildResult {
  imagesPerSecond: number;
  maxRssMiB: number;
  /** System CPU time / (user + system) over the timed steps. */
  systemShare: number;
  malloc: string;
  threads: number;
}

async function run(steps: number): Promise<void> {
  await tf.setBackend('torch');
  const model = referenceCnn();
  const x = tf.randomUniform([64 * 20, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([64 * 20], 0, 10, 'int32') as tf.Tensor1D, 10);
  await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });  // warm-up: 20 steps
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < steps; done += 20) await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const result: FitChildResult = {
    imagesPerSecond: Math.ceil(steps / 20) * 20 * 64 / seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024,
    systemShare: cpu.system / (cpu.user + cpu.system), malloc: torch.mallocTuning(), threads: torch.getNumThreads(),
  };
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  run(Number(process.argv[2] ?? 150)).catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}
