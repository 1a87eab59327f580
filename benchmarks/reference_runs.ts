// The reference recipe's seed-cnn runs that the ensemble and calibration benchmarks measure, one per seed: a
// completed run in `runsDir` trained with the reference recipe on `data` with that seed is reused (training is
// deterministic, so the same config gives the same weights), otherwise the run is trained there.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MODEL_JSON } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { NOT_HYPERPARAMETERS } from '../packages/insight/src/track/param_relevance';
import { TRAIN_DEFAULTS } from '../packages/insight/src/train/config';
import { train } from '../packages/insight/src/train/train';

export interface ReferenceRun {
  seed: number;
  dir: string;
  /** Found complete in runsDir (seconds is then 0), or trained by this call. */
  reused: boolean;
  seconds: number;
}

/**
 * The keys of a run's config that need not be the reference recipe's: the seed and data (compared apart), and those
 * that say where and how it ran, never what it computed (track/param_relevance.ts). Every other key must be at its
 * default — so a run with Mixup, adversarial training or any other change of recipe is never taken for a reference
 * run; a key missing from an older run's config.json (added to train since) counts as its default.
 */
const FREE_KEYS: ReadonlySet<string> = new Set(['seed', 'data', ...NOT_HYPERPARAMETERS]);
/** The keys that must be at their default. */
const RECIPE_KEYS = (Object.keys(TRAIN_DEFAULTS) as (keyof typeof TRAIN_DEFAULTS)[]).filter((key) => !FREE_KEYS.has(key));

/** A completed run in `runsDir` trained with the reference recipe on `data` and `seed`, its model uncalibrated, else null. */
export function reusableRun(runsDir: string, data: string, seed: number): string | null {
  if (!fs.existsSync(runsDir)) return null;
  for (const name of fs.readdirSync(runsDir).sort()) {
    const run = RunDir.tryOpen(path.join(runsDir, name));
    if (run === null || run.readInfo().status !== 'completed') continue;
    const config = run.readConfig() as Record<string, unknown>;
    const same = config.seed === seed && RECIPE_KEYS.every((key) => JSON.stringify(config[key] ?? TRAIN_DEFAULTS[key]) === JSON.stringify(TRAIN_DEFAULTS[key]));
    // `insight calibrate` in place stores a temperature (inference settings) in model.json: not the reference model.
    const modelJson = path.join(run.modelDir, MODEL_JSON);
    const inference = fs.existsSync(modelJson) ? JSON.parse(fs.readFileSync(modelJson, 'utf8')).userDefinedMetadata?.insight?.inference : undefined;
    if (same && inference === undefined && typeof config.data === 'string' && path.resolve(config.data) === data) return run.dir;
  }
  return null;
}

/** One reference run per seed, in order: reused from `runsDir` or trained into it. */
export async function referenceRuns(runsDir: string, data: string, seeds: readonly number[]): Promise<ReferenceRun[]> {
  const runs: ReferenceRun[] = [];
  for (const seed of seeds) {
    const found = reusableRun(runsDir, data, seed);
    if (found !== null) {
      runs.push({ seed, dir: found, reused: true, seconds: 0 });
      continue;
    }
    console.log(`training seed ${seed} into ${runsDir} ...`);
    const started = performance.now();
    const result = await train({ data, seed, runsDir, name: `seed-cnn-seed${seed}`, progress: 'none', tensorboard: false });
    result.model.dispose();
    runs.push({ seed, dir: result.runDir, reused: false, seconds: (performance.now() - started) / 1000 });
  }
  return runs;
}

/** 'seed 1 (reused 20261202-103948-c70f)' or 'seed 1 (trained, 191 s)'. */
export function describeRun(run: ReferenceRun): string {
  return `seed ${run.seed}${run.reused ? ` (reused ${path.basename(run.dir)})` : ` (trained, ${run.seconds.toFixed(0)} s)`}`;
}
