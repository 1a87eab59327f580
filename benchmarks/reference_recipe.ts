// The reference recipe end to end, side by side: `insight train` (the library call behind it, all defaults:
// seed-cnn, Adam 1e-3, batch 64, 10 epochs, [0,1] scaling, validation = last 5,000 of the 50,000 training
// images) and PyTorch running the same recipe on the same data and split (reference_recipe.py), in its
// default layout and channels_last. Prints seconds per epoch, training images/s and validation accuracy.
//   node --conditions=source --import tsx benchmarks/reference_recipe.ts [--data <cifar archive>] [--epochs 10]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { train } from '../packages/insight/src';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/reference_recipe.ts [options]
  --data <archive>   CIFAR-10 archive or folder (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --epochs <n>       epochs for each trainer (default: 10)`;
const args = benchmarkArgs(USAGE, {
  data: { type: 'string', default: path.join(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  epochs: { type: 'string', default: '10' },
});
const data = path.resolve(args.data);
const epochs = numberArg('epochs', args.epochs);
const threads = os.availableParallelism();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row { name: string; epochSeconds: number; imagesPerSecond: number; valAccuracy: number }

function pytorch(channelsLast: boolean): Row {
  const out = execFileSync('/usr/bin/python3', [path.join(__dirname, 'reference_recipe.py'), '--data', data,
    '--threads', String(threads), '--epochs', String(epochs), ...(channelsLast ? ['--channels-last'] : [])],
  { encoding: 'utf8', maxBuffer: 1 << 24 });
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  const perEpoch = lines.filter((l) => !l.summary);
  return {
    name: `PyTorch ${channelsLast ? 'channels_last' : 'NCHW'}`,
    epochSeconds: median(perEpoch.map((l) => l.epoch_seconds)),
    imagesPerSecond: median(perEpoch.map((l) => l.images_per_second)),
    valAccuracy: perEpoch[perEpoch.length - 1].val_accuracy,
  };
}

async function insight(): Promise<Row> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-'));
  const t0 = performance.now();
  const result = await train({ data, epochs, runsDir, progress: 'none' });
  const wall = (performance.now() - t0) / 1000;
  const epochsLog = fs.readFileSync(path.join(result.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l)).filter((l) => l.type === 'epoch');
  result.model.dispose();
  fs.rmSync(runsDir, { recursive: true, force: true });
  console.error(`insight train: ${wall.toFixed(1)} s wall for ${epochs} epochs (including data loading and the final report)`);
  return {
    name: `Insight (${result.backend})`,
    epochSeconds: median(epochsLog.map((l) => l.seconds)),
    imagesPerSecond: median(epochsLog.map((l) => l.imagesPerSecond)),
    valAccuracy: epochsLog[epochsLog.length - 1].val_accuracy,
  };
}

async function main() {
  const rows = [await insight(), pytorch(false), pytorch(true)];
  console.log(`reference recipe, ${epochs} epochs, 45,000 training / 5,000 validation images (the last 5,000 of the ` +
    `training batches), ${threads} threads; medians over epochs\n`);
  console.log('| trainer | s/epoch | train img/s | val accuracy after last epoch |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.epochSeconds.toFixed(2)} | ${r.imagesPerSecond.toFixed(0)} | ${(100 * r.valAccuracy).toFixed(2)}% |`);
  }
  console.log(`\nepoch time ratio, PyTorch NCHW / Insight: ${(rows[1].epochSeconds / rows[0].epochSeconds).toFixed(2)}x; ` +
    `PyTorch channels_last / Insight: ${(rows[2].epochSeconds / rows[0].epochSeconds).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
