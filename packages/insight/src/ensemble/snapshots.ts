// Snapshot ensembles: the members are the models one run kept after its last epochs (train --keep-snapshots <n>
// writes snapshots/epoch-<e>/, a model directory each; run/run_dir.ts names them). Which ones: --epochs, or the last
// --last, or all it kept.
import * as fs from 'node:fs';

import { ruleError } from '../errors';
import { RunDir } from '../run/run_dir';
import { parseEpochs } from './config';

/** One chosen snapshot: its epoch and model directory. */
export interface Snapshot {
  epoch: number;
  dir: string;
}

/**
 * The snapshots of run `runDir` to ensemble, ascending by epoch: `epochs` (each must be kept), else the last `last`,
 * else every kept one. Throws INSIGHT_E_MODEL when the run kept fewer than two, or not the ones asked for.
 */
export function chooseSnapshots(runDir: string, choice: { epochs: string | null; last: number | null }): Snapshot[] {
  if (!fs.existsSync(runDir) || !RunDir.looksLikeRun(runDir)) {
    throw ruleError('INSIGHT_E_MODEL', '--snapshots takes a run directory.', { snapshots: runDir, exists: fs.existsSync(runDir) },
      'Pass e.g. --snapshots runs/<run-id> (a run trained with --keep-snapshots <n>).');
  }
  const run = RunDir.at(runDir);
  const kept = run.snapshotEpochs();
  const fix = `Train the run with --keep-snapshots <n> (n >= 2) to keep its last epochs' models; this one kept epochs: ${kept.join(',') || 'none'}.`;
  if (kept.length < 2) {
    throw ruleError('INSIGHT_E_MODEL', 'A snapshot ensemble needs a run that kept at least two per-epoch snapshots.',
      { snapshots: runDir, keptEpochs: kept.join(',') || 'none' }, fix);
  }
  let epochs = kept;
  if (choice.epochs !== null) {
    epochs = parseEpochs(choice.epochs);
    const missing = epochs.filter((e) => !kept.includes(e));
    if (missing.length > 0) {
      throw ruleError('INSIGHT_E_MODEL', 'Every epoch passed to --epochs must have a snapshot in the run.',
        { snapshots: runDir, epochs: choice.epochs, missing: missing.join(','), keptEpochs: kept.join(',') }, 'Pass epochs from the kept ones.');
    }
    epochs = [...epochs].sort((a, b) => a - b);
  } else if (choice.last !== null) {
    if (choice.last > kept.length) {
      throw ruleError('INSIGHT_E_MODEL', '--last must not exceed the number of snapshots the run kept.',
        { snapshots: runDir, last: choice.last, keptEpochs: kept.join(',') }, `Pass --last ${kept.length} or less.`);
    }
    epochs = kept.slice(-choice.last);
  }
  return epochs.map((epoch) => ({ epoch, dir: run.snapshotDir(epoch) }));
}
