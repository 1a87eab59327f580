// Issue 15's target: on the reference CNN, a budget of 20 trials of TPE + ASHA finds a recipe >= 3 pt above the
// default recipe's validation accuracy in less than a third of the wall time of 20 full trials; random search +
// ASHA with the same budget beside it. Validation = CIFAR-10's last 5,000 training images (the official test split
// is withheld).
//   node --conditions=source --import tsx benchmarks/tune.ts [--data <archive>] [--trials 20] [--samplers tpe,random]
//        [--space benchmarks/tune_space.yaml] [--epochs 10] [--out <dir>] [--confirm-seed 1]
// Steps, one after the other in this process (run it alone: wall times are the result):
// 1. the default recipe (`insight train` with no flags): its validation accuracy and its wall time, one full trial;
// 2. per sampler, a study of --trials trials with ASHA (min 1 epoch, reduction factor 3: rungs at epochs 1 and 3 of 10;
//    a trial not yet among a rung's best third pauses there and is resumed when promoted) over --space, in one worker;
// 3. per sampler, the best configuration trained again with another seed (--confirm-seed), so the figure is not
//    only the luck of the trial that was picked for being best on the same validation images.
// "20 full trials" is given two ways: 20 x the default recipe's wall time, and the study's own trials extrapolated to
// all epochs (each trial's seconds per epoch from its run's metrics x --epochs, plus the default run's set-up and
// report time), i.e. the same configurations run in full.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { RunDir } from '../packages/insight/src/run/run_dir';
import { train } from '../packages/insight/src/train/train';
import { tune } from '../packages/insight/src/tune/study';
import type { TrialRow } from '../packages/insight/src/tune/show';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/tune.ts [options]
  --data <archive>        CIFAR-10 archive (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --trials <n>            the budget of each study (default: 20)
  --samplers <list>       studies to run, each with ASHA (default: tpe,random)
  --space <file>          the search space (default: benchmarks/tune_space.yaml)
  --epochs <n>            epochs of a full trial and of the default recipe (default: 10)
  --seed <n>              sampler seed (default: 0)
  --confirm-seed <n>      training seed of the best configuration's second run (default: 1)
  --limit <n>             use only the first <n> training images (a quick check of the script; default: all)
  --out <dir>             runs, the study database and results.json (default: scratch/bench-tune-<time>)`;
const args = benchmarkArgs(USAGE, {
  data: { type: 'string', default: path.resolve(__dirname, '../../shared/data/cifar-10-binary-train.tar.gz') },
  trials: { type: 'string', default: '20' },
  samplers: { type: 'string', default: 'tpe,random' },
  space: { type: 'string', default: path.resolve(__dirname, 'tune_space.yaml') },
  epochs: { type: 'string', default: '10' },
  seed: { type: 'string', default: '0' },
  'confirm-seed': { type: 'string', default: '1' },
  limit: { type: 'string', default: '' },
  out: { type: 'string', default: path.resolve(__dirname, `../scratch/bench-tune-${new Date().toISOString().replace(/[:.]/g, '-')}`) },
});
const trials = numberArg('trials', args.trials);
const epochs = numberArg('epochs', args.epochs);
const seed = numberArg('seed', args.seed);
const confirmSeed = numberArg('confirm-seed', args['confirm-seed']);
const runsDir = path.join(args.out, 'runs');
fs.mkdirSync(runsDir, { recursive: true });
const limit = args.limit === '' ? {} : { limit: numberArg('limit', args.limit) };
const base = { data: args.data, epochs, runsDir, progress: 'none' as const, tensorboard: false, ...limit };

const seconds = (from: number) => (performance.now() - from) / 1000;
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** One full run of `config` over the base: validation accuracy and wall seconds (set-up, training, final report). */
async function fullRun(config: Record<string, unknown>, name: string) {
  const start = performance.now();
  const result = await train({ ...base, ...config, name }, { handleSignals: false });
  const wall = seconds(start);
  result.model.dispose();
  return { runDir: result.runDir, valAccuracy: result.report.accuracy, wall, epochSeconds: epochSecondsOf(result.runDir) };
}

/** The seconds of each epoch a run trained (training and validation), from its metrics.jsonl. */
function epochSecondsOf(runDir: string): number[] {
  return RunDir.open(runDir).readMetrics().filter((r) => r.type === 'epoch').map((r) => r.seconds as number);
}

/** A trial's seconds in full: its mean epoch x all epochs, plus the set-up and report time of a run (`overhead`). */
function fullSeconds(t: TrialRow, overhead: number): number {
  const perEpoch = epochSecondsOf(t.runDir!);
  return overhead + (perEpoch.reduce((a, b) => a + b, 0) / perEpoch.length) * epochs;
}

async function main(): Promise<void> {
  console.log(`default recipe: ${epochs} epochs ...`);
  const baseline = await fullRun({}, 'default-recipe');
  const overhead = baseline.wall - baseline.epochSeconds.reduce((a, b) => a + b, 0);
  console.log(`default recipe: validation accuracy ${pct(baseline.valAccuracy)}, ${baseline.wall.toFixed(1)} s (${overhead.toFixed(1)} s outside epochs)`);

  const studies = [];
  for (const sampler of args.samplers.split(',')) {
    const study = `bench-${sampler}`;
    const start = performance.now();
    const result = await tune({ study, space: args.space, sampler: sampler as 'tpe', pruner: 'asha', trials, seed, storage: `sqlite:${path.join(args.out, 'tune.db')}`, baseConfig: base },
      { handleSignals: false, out: process.stdout });
    const wall = seconds(start);
    const finished = result.trials.filter((t) => t.state === 'completed' || t.state === 'pruned');
    const epochsRun = finished.reduce((sum, t) => sum + t.epochs, 0);
    const epochsPerTrial: Record<number, number> = {};
    for (const t of finished) epochsPerTrial[t.epochs] = (epochsPerTrial[t.epochs] ?? 0) + 1;
    // The same configurations in full: each trial's time per epoch scaled to all epochs, plus a run's set-up.
    const fullExtrapolated = finished.reduce((sum, t) => sum + fullSeconds(t, overhead), 0);
    const best = result.best;
    if (best === null) throw new Error(`study ${study} has no completed trial`);
    console.log(`${study}: best trial ${best.number} ${pct(best.value ?? NaN)} in ${wall.toFixed(1)} s; ${result.counts.completed} completed, ${result.counts.pruned} pruned; confirming with seed ${confirmSeed} ...`);
    const confirm = await fullRun({ ...best.params, seed: confirmSeed }, `${study}-best-seed${confirmSeed}`);
    studies.push({
      sampler, wall, epochsRun, epochsPerTrial, trials: finished.length, completed: result.counts.completed, pruned: result.counts.pruned,
      failed: result.counts.failed, bestTrial: best.number, bestValue: best.value, bestParams: best.params, bestRun: best.runDir,
      confirm, fullExtrapolated, importance: result.importance,
    });
  }

  const results = { date: new Date().toISOString(), trials, epochs, baseline, studies };
  fs.writeFileSync(path.join(args.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\n| study (${trials} trials, ASHA) | best trial val acc | gain over default | best config, seed ${confirmSeed} | wall time | vs 20 x default run | vs the same trials in full | epochs run / ${trials * epochs} |`);
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| default recipe (1 run) | ${pct(baseline.valAccuracy)} | - | - | ${baseline.wall.toFixed(0)} s | - | - | ${epochs} |`);
  for (const s of studies) {
    const gain = 100 * ((s.bestValue ?? NaN) - baseline.valAccuracy);
    console.log(`| ${s.sampler} + ASHA | ${pct(s.bestValue ?? NaN)} | ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} pt | ${pct(s.confirm.valAccuracy)} | ${s.wall.toFixed(0)} s | `
      + `${(s.wall / (trials * baseline.wall)).toFixed(3)} | ${(s.wall / s.fullExtrapolated).toFixed(3)} | ${s.epochsRun} |`);
  }
  for (const s of studies) {
    console.log(`${s.sampler}: trials by epochs trained ${JSON.stringify(s.epochsPerTrial)}; best params ${JSON.stringify(s.bestParams)}; importance ${JSON.stringify(s.importance)}`);
  }
  console.log(`\nresults: ${path.join(args.out, 'results.json')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
