// Issue 14's adversarial-training target: FGSM-RS at eps = 8/255 (Wong et al. 2020) reaching PGD-20 robust accuracy
// >= 40% with clean accuracy >= 75% on the validation split (CIFAR-10's last 5,000 training images), wall time
// reported. Trains `insight train --adversarial fgsm-rs --eps 8/255` with a recipe (--recipe), then measures on the
// validation split: clean accuracy (all of it) and PGD-20 L∞ robust accuracy (random start, step 2.5 eps / 20, seed 0;
// an image counts when classified correctly clean and attacked, as RobustBench) on its first --eval-limit images,
// plus the guard's per-epoch val_robust_accuracy (PGD-10 on 256 images). --baseline <run> measures a plainly trained
// run the same way (e.g. the reference seed-cnn run), for comparison.
//   recipes:  seed-cnn — the reference recipe (seed-cnn, Adam 1e-3, batch 64, no augmentation) + FGSM-RS, 10 epochs
//             resnet   — resnet20, SGD momentum 0.9, one-cycle to lr 0.2, weight decay 5e-4, crop+flip, batch 128,
//                        15 epochs (Wong et al.'s CIFAR-10 schedule, on the zoo's resnet20)
//   With --limit and --epochs 1 it times an epoch on a subset, to estimate a full run's wall time.
//   node --conditions=source --import tsx benchmarks/adversarial_training.ts [--recipe seed-cnn|resnet] [--epochs <n>]
//        [--precision fp32|bf16] [--limit <n>] [--eval-limit 1000] [--baseline <run dir>] [--runs-dir <dir>] [--data <archive>]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { DataLoader, subsetDataset } from '../packages/insight/src/data';
import { runInference } from '../packages/insight/src/eval/inference';
import { accuracy } from '../packages/insight/src/eval/metrics';
import { argmaxRows } from '../packages/insight/src/math/top_k';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { robustAccuracy } from '../packages/insight/src/robust/attacks/robust_accuracy';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { loadRunSplit, runSplitSettings } from '../packages/insight/src/run/dataset_source';
import { loadModel } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { train, type TrainInput } from '../packages/insight/src/train/train';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/adversarial_training.ts [options]
  --recipe <name>      seed-cnn (default) or resnet (see the header of this file)
  --epochs <n>         epochs to train (default: the recipe's, 10 / 15)
  --precision <p>      fp32 (default) or bf16: the training passes (attack included) in bf16 mixed precision
  --limit <n>          train on the first <n> images of the archive only (timing runs; validation is then its last 10%)
  --eval-limit <n>     images of the validation split attacked with PGD-20 (default 1000)
  --baseline <run>     also measure this (plainly trained) run's clean and PGD-20 accuracy on the same images
  --runs-dir <dir>     where the run goes (default: a temporary folder)
  --data <path>        CIFAR-10 training archive (default: ../shared/data/cifar-10-binary-train.tar.gz)`;
const args = benchmarkArgs(USAGE, {
  recipe: { type: 'string', default: 'seed-cnn' },
  epochs: { type: 'string' },
  precision: { type: 'string', default: 'fp32' },
  limit: { type: 'string' },
  'eval-limit': { type: 'string', default: '1000' },
  baseline: { type: 'string' },
  'runs-dir': { type: 'string' },
  data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
});

const EPS = 8 / 255;
const RECIPES: Record<string, TrainInput> = {
  'seed-cnn': { epochs: 10 },
  resnet: {
    model: 'resnet', depth: 20, optimizer: 'sgd', momentum: 0.9, lr: 0.2, schedule: 'onecycle', weightDecay: 5e-4,
    augment: ['crop', 'flip'], batchSize: 128, epochs: 15,
  },
};
const recipe = RECIPES[args.recipe];
if (recipe === undefined) {
  console.error(`--recipe must be one of: ${Object.keys(RECIPES).join(', ')}. Received: recipe=${JSON.stringify(args.recipe)}.\n\n${USAGE}`);
  process.exit(2);
}
const data = path.resolve(args.data);
const evalLimit = numberArg('eval-limit', args['eval-limit']);
const runsDir = args['runs-dir'] ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-adv-')), 'runs');
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** Clean accuracy on the whole validation split and PGD-20 robust accuracy on its first `evalLimit` images. */
async function measure(runDir: string): Promise<{ clean: number; validation: number; pgd: Awaited<ReturnType<typeof robustAccuracy>> }> {
  const config = RunDir.open(runDir).readConfig() as Record<string, unknown>;
  const split = await loadRunSplit({ data, dataset: 'auto', imageSize: 32 }, runSplitSettings(config));
  const validation = split.validation!;
  const model = await loadModel(runDir);
  const { normalization } = getInsightMetadata(model, 'model');
  const all = new DataLoader(validation, { batchSize: 500, shuffle: false, normalization, workers: 0 });
  const first = new DataLoader(subsetDataset(validation, Array.from({ length: Math.min(evalLimit, validation.count) }, (_, i) => i)),
    { batchSize: 250, shuffle: false, normalization, workers: 0 });
  try {
    const clean = await runInference(model, all);
    const pgd = await robustAccuracy(model, first, { attack: 'pgd', eps: EPS, steps: 20, seed: 0 }, normalization);
    return { clean: accuracy(clean.labels, argmaxRows(clean.probabilities, clean.numClasses)), validation: validation.count, pgd };
  } finally {
    await all.close();
    await first.close();
    model.dispose();
  }
}

async function main(): Promise<void> {
  const backend = await startBackend('auto', 'training');
  const config: TrainInput = {
    ...recipe, data, runsDir, adversarial: 'fgsm-rs', eps: EPS, progress: 'log', tensorboard: false, name: `fgsm-rs-${args.recipe}`,
    ...(args.epochs !== undefined ? { epochs: numberArg('epochs', args.epochs) } : {}),
    precision: args.precision as TrainInput['precision'],
    ...(args.limit !== undefined ? { limit: numberArg('limit', args.limit) } : {}),
  };
  const started = performance.now();
  const result = await train(config);
  const wall = (performance.now() - started) / 1000;
  result.model.dispose();
  const history = result.state.history;
  const run = RunDir.open(result.runDir);
  const counts = JSON.parse(fs.readFileSync(run.dataJson, 'utf8')) as { train: { count: number }; validation: { count: number } | null };

  console.log(`\nRun ${result.runDir} (backend ${backend}): ${history.length} epochs on ${counts.train.count} training images, wall ${wall.toFixed(0)} s`);
  console.log('| epoch | loss (adversarial) | accuracy (adversarial) | val_accuracy | val_robust_accuracy (PGD-10, 256 images) | epoch s (all) | train img/s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const h of history) {
    console.log(`| ${h.epoch} | ${h.loss.toFixed(4)} | ${pct(h.accuracy)} | ${h.val_accuracy === undefined ? '—' : pct(h.val_accuracy)} | ` +
      `${h.val_robust_accuracy === undefined ? '—' : pct(h.val_robust_accuracy)} | ${h.seconds.toFixed(1)} | ${h.imagesPerSecond.toFixed(0)} |`);
  }
  console.log(`guard: ${JSON.stringify(run.readInfo().summary?.robustGuard)}`);
  if (args.limit !== undefined) {
    // Per epoch: training at the measured images/s, plus what came after it (validation on this run's split, the
    // guard's PGD-10 on 256 images), which at full size costs about the same (validation: 5,000 instead of
    // the split's own validation images, a few seconds more).
    const last = history[history.length - 1];
    const trainSeconds = counts.train.count / last.imagesPerSecond;
    const overhead = last.seconds - trainSeconds;
    const full = 45000;
    const epochs = RECIPES[args.recipe].epochs as number;
    const perEpoch = full / last.imagesPerSecond + overhead;
    console.log(`\nEstimate for the full recipe: ${epochs} epochs x (${full} images at ${last.imagesPerSecond.toFixed(0)} img/s = ` +
      `${(full / last.imagesPerSecond).toFixed(0)} s + ${overhead.toFixed(0)} s validation and guard) = ${(epochs * perEpoch / 3600).toFixed(2)} h`);
  }

  const rows = [{ name: `FGSM-RS ${args.recipe}`, dir: result.runDir }];
  if (args.baseline !== undefined) rows.push({ name: `plain (${path.basename(args.baseline)})`, dir: path.resolve(args.baseline) });
  console.log('\n| model | clean accuracy (validation) | PGD-20 robust accuracy | images attacked | PGD seconds |\n|---|---|---|---|---|');
  for (const row of rows) {
    const m = await measure(row.dir);
    console.log(`| ${row.name} | ${pct(m.clean)} (${m.validation} images) | ${pct(m.pgd.accuracy)} | ${m.pgd.images} | ${m.pgd.seconds.toFixed(1)} |`);
  }
  console.log('\nIssue target (resnet): clean >= 75%, PGD-20 >= 40%.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
