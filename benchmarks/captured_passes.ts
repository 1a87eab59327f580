// Captured functions (tfjs-backend-torch captureFunction) against eager tfjs: milliseconds per inference pass
// (model.apply with training: false) and per input-gradient pass (tf.grad of the summed logits, as saliency takes
// it) of the seed CNN and resnet20 at several batch sizes, eager and replayed, interleaved in one process; and the
// largest difference between their outputs (0: the replay makes the eager run's ATen calls).
//   node --conditions=source --import tsx benchmarks/captured_passes.ts [--batches 1,64] [--rounds 5] [--calls 30]
import * as os from 'node:os';

import * as torchBackend from '@insight/tfjs-backend-torch';

import { tf } from '../packages/insight/src/backend';
import { createModel } from '../packages/insight/src/models';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/captured_passes.ts [options]
  --models <list>   seed-cnn, resnet (default: both)
  --batches <list>  batch sizes (default: 1,64)
  --rounds <n>      alternating rounds of eager and captured (default: 5)
  --calls <n>       timed calls per side and round, after 3 untimed ones (default: 30)
  --threads <n>     libtorch threads (default: all cores)`;
const args = benchmarkArgs(USAGE, {
  models: { type: 'string', default: 'seed-cnn,resnet' },
  batches: { type: 'string', default: '1,64' },
  rounds: { type: 'string', default: '5' },
  calls: { type: 'string', default: '30' },
  threads: { type: 'string', default: String(os.availableParallelism()) },
});
const rounds = numberArg('rounds', args.rounds);
const calls = numberArg('calls', args.calls);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms of `calls` calls of f (each result read back and freed), after 3 untimed calls. */
function time(f: () => tf.Tensor): number {
  const run = () => {
    const y = f();
    y.dataSync();
    y.dispose();
  };
  for (let i = 0; i < 3; i++) run();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    run();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

async function main(): Promise<void> {
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  torchBackend.setNumThreads(numberArg('threads', args.threads));
  await tf.setBackend('torch');
  console.log(`eager tfjs vs captured (replayed natively), ms per pass: median of ${calls} calls, median of ${rounds} alternating rounds; ` +
    `${torchBackend.getNumThreads()} threads; tfjs ${tf.version_core} on torch\n`);
  console.log('| model | pass | batch | eager ms | captured ms | eager / captured | max |difference| |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const name of args.models.split(',')) {
    const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    const passes: Record<string, (x: tf.Tensor) => tf.Tensor> = {
      inference: (x) => model.apply(x, { training: false }) as tf.Tensor,
      'input gradient': (x) => tf.grad((u: tf.Tensor) => tf.sum(model.apply(u, { training: false }) as tf.Tensor))(x),
    };
    for (const [pass, eager] of Object.entries(passes)) {
      const captured = torchBackend.captureFunction(eager);
      for (const batch of args.batches.split(',').map((b) => numberArg('batches', b))) {
        const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1);
        const [e, c]: number[][] = [[], []];
        for (let r = 0; r < rounds; r++) {
          e.push(time(() => eager(x)));
          c.push(time(() => captured(x)));
        }
        const [a, b] = [eager(x), captured(x)];
        const stats = captured.stats();
        if (stats.refusals.length > 0) throw new Error(`not replayed: ${stats.refusals.join('; ')}`);
        console.log(`| ${name} | ${pass} | ${batch} | ${median(e).toFixed(3)} | ${median(c).toFixed(3)} | ${(median(e) / median(c)).toFixed(2)}x | ${maxDifference(a, b)} |`);
        tf.dispose([x, a, b]);
      }
      captured.dispose();
    }
    model.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
