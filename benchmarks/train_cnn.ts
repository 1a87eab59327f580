// Reference CNN (the Keras CIFAR-10 tutorial network) trained with tfjs-layers `model.fit` on the `torch`
// backend (fusedAdam; STOCK_ADAM=1 uses tf.train.adam), side by side in one run with PyTorch in its default
// layout and channels_last: same threads, same model, Adam, CIFAR-shaped data. Prints a markdown table of
// training and inference images/s and the ratios.
//   node --conditions=source --import tsx benchmarks/train_cnn.ts [--threads 2] [--images 6400] [--epochs 3]
//        [--batch-sizes 64,256] [--rounds 3]
// Each round runs PyTorch NCHW, PyTorch channels_last and tfjs on torch one after the other; the table gives the
// median over rounds of each one's median epoch, so a noisy moment on this shared machine hits all three alike.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';

import { benchmarkArgs, numberArg, numberListArg } from './args';
import { referenceCnn } from './reference_cnn_model';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/train_cnn.ts [options]
  --threads <n>         libtorch and PyTorch threads (default: all cores)
  --images <n>          CIFAR-shaped images per epoch (default: 6400)
  --epochs <n>          measured epochs, after 1 warm-up (default: 3)
  --batch-sizes <list>  one table row pair each (default: 64,256)
  --rounds <n>          alternating rounds of the three trainers (default: 3)
Environment: STOCK_ADAM=1 trains with tf.train.adam instead of the fused Adam kernel.`;
const args = benchmarkArgs(USAGE, {
  threads: { type: 'string', default: String(os.availableParallelism()) },
  images: { type: 'string', default: '6400' },
  epochs: { type: 'string', default: '3' },
  'batch-sizes': { type: 'string', default: '64,256' },
  rounds: { type: 'string', default: '3' },
});
const threads = numberArg('threads', args.threads);
const images = numberArg('images', args.images);
const epochs = numberArg('epochs', args.epochs);
const batchSizes = numberListArg('batch-sizes', args['batch-sizes']);
const rounds = numberArg('rounds', args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function tfjsRun(batchSize: number): Promise<{ train: number; infer: number }> {
  const model = referenceCnn(process.env.STOCK_ADAM ? 'stock' : 'fused');
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

function pytorchRun(batchSize: number, channelsLast: boolean): { train: number; infer: number; torch_version: string } {
  const args = [path.join(__dirname, 'reference_cnn.py'), '--threads', String(threads), '--batch-size', String(batchSize),
    '--images', String(images), '--epochs', String(epochs), ...(channelsLast ? ['--channels-last'] : [])];
  return JSON.parse(execFileSync('/usr/bin/python3', args, { encoding: 'utf8' }).trim().split('\n').pop()!);
}

async function main() {
  if (!torchBackend.isAvailable) throw new Error(torchBackend.unavailableReason!);
  torchBackend.setNumThreads(threads);
  await tf.setBackend('torch');
  const rows: string[] = [];
  let torchVersion = '';
  for (const bs of batchSizes) {
    const runs: Record<'ours' | 'pt' | 'ptcl', { train: number[]; infer: number[] }> = {
      ours: { train: [], infer: [] }, pt: { train: [], infer: [] }, ptcl: { train: [], infer: [] },
    };
    for (let r = 0; r < rounds; r++) {
      for (const [key, result] of [['pt', pytorchRun(bs, false)], ['ptcl', pytorchRun(bs, true)],
        ['ours', await tfjsRun(bs)]] as const) {
        runs[key].train.push(result.train);
        runs[key].infer.push(result.infer);
        if ('torch_version' in result) torchVersion = result.torch_version;
      }
    }
    const f = (v: number) => v.toFixed(0);
    const r = (a: number, b: number) => (a / b).toFixed(2);
    for (const phase of ['train', 'infer'] as const) {
      const [ours, pt, ptcl] = [median(runs.ours[phase]), median(runs.pt[phase]), median(runs.ptcl[phase])];
      rows.push(`| ${bs} | ${phase} | ${f(ours)} | ${f(pt)} | ${f(ptcl)} | ${r(ours, pt)}x | ${r(ours, ptcl)}x |`);
    }
  }
  console.log(`reference CNN, ${images} CIFAR-shaped images per epoch, median of ${epochs} epochs after 1 warm-up, ` +
    `median of ${rounds} alternating rounds, ` +
    `${threads} threads, tfjs ${tf.version_core} on torch (libtorch ${torchVersion}) vs PyTorch ${torchVersion}\n`);
  console.log('| batch | phase | tfjs on torch (img/s) | PyTorch NCHW (img/s) | PyTorch channels_last (img/s) | vs NCHW | vs channels_last |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
