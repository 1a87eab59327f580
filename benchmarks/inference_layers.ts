// What running a model's layers on inference ops gains (models/inference_layers.ts, used by every explanation pass):
// one forward pass and one input-gradient pass of a batch through the layers' own calls against the same passes
// inside withInferenceLayers, interleaved in one process so that a noisy moment hits both alike; the median of each.
//   node --conditions=source --import tsx benchmarks/inference_layers.ts [--model resnet] [--batch 64] [--rounds 15]
import * as torchBackend from '@insight/tfjs-backend-torch';

import { tf } from '../packages/insight/src/backend';
import { createModel } from '../packages/insight/src/models';
import { withInferenceLayers } from '../packages/insight/src/models/inference_layers';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/inference_layers.ts [options]
  --model <name>   seed-cnn or resnet (resnet20, width 16) (default: resnet)
  --batch <n>      images per pass (default: 64)
  --rounds <n>     interleaved rounds, after 3 warm-up passes of each kind (default: 15)`;
const args = benchmarkArgs(USAGE, {
  model: { type: 'string', default: 'resnet' },
  batch: { type: 'string', default: '64' },
  rounds: { type: 'string', default: '15' },
});
const batch = numberArg('batch', args.batch);
const rounds = numberArg('rounds', args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  await tf.setBackend('torch');
  const model = createModel(args.model, { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 0);
  const pick = tf.oneHot(tf.tensor1d(new Int32Array(batch), 'int32'), 10);
  const forward = () => tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
  const gradient = () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, pick)))(x);
  const passes: Record<string, () => tf.Tensor> = {
    'forward, own layers': forward,
    'forward, inference ops': () => withInferenceLayers(model, forward),
    'input gradient, own layers': gradient,
    'input gradient, inference ops': () => withInferenceLayers(model, gradient),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(passes).map((k) => [k, []]));
  const timed = (pass: () => tf.Tensor) => {
    const started = performance.now();
    const out = pass();
    out.dataSync();
    out.dispose();
    return performance.now() - started;
  };
  for (const pass of Object.values(passes)) for (let i = 0; i < 3; i++) timed(pass);
  for (let r = 0; r < rounds; r++) for (const [name, pass] of Object.entries(passes)) times[name].push(timed(pass));
  console.log(`${args.model}, batch ${batch} of 32x32x3, ${torchBackend.getNumThreads()} threads; median of ${rounds} interleaved rounds\n`);
  console.log('| pass | own layers (ms) | inference ops (ms) | own / inference |');
  console.log('|---|---:|---:|---:|');
  for (const kind of ['forward', 'input gradient']) {
    const [own, inference] = [median(times[`${kind}, own layers`]), median(times[`${kind}, inference ops`])];
    console.log(`| ${kind} | ${own.toFixed(1)} | ${inference.toFixed(1)} | ${(own / inference).toFixed(2)}x |`);
  }
  tf.dispose([x, pick]);
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
