// The median stopping rule (Golovin et al. 2017, Google Vizier), as Optuna's MedianPruner
// (optuna/pruners/_percentile.py at the 50th percentile): once nStartupTrials trials have completed, a trial past
// nWarmupSteps is pruned at step s when its best value so far is worse than the median of the completed trials'
// values at step s. Completed trials without a report at s do not count; with none, nothing is pruned. A trial whose
// every report is non-finite is pruned.
import type { Direction, TrialRecord } from '../../study/types';
import { reportsByStep, type PruneDecision, type Pruner } from './types';

export interface MedianOptions {
  /** Prune nothing until this many trials have completed. */
  nStartupTrials: number;
  /** Prune nothing before this step. */
  nWarmupSteps: number;
}

export const MEDIAN_DEFAULTS: MedianOptions = { nStartupTrials: 5, nWarmupSteps: 0 };

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly options: MedianOptions;

  constructor(options: Partial<MedianOptions> = {}) {
    this.options = { ...MEDIAN_DEFAULTS, ...options };
  }

  decide(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): PruneDecision {
    return this.shouldPrune(trial, allTrials, direction) ? 'prune' : 'continue';
  }

  private shouldPrune(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): boolean {
    const completed = allTrials.filter((t) => t.state === 'completed' && t.id !== trial.id);
    if (completed.length === 0 || completed.length < this.options.nStartupTrials) return false;
    const reports = reportsByStep(trial);
    if (reports.length === 0) return false;
    const { step } = reports[reports.length - 1];
    if (step < this.options.nWarmupSteps) return false;
    const finite = reports.map((r) => r.value).filter(Number.isFinite);
    if (finite.length === 0) return true;
    const best = direction === 'maximize' ? Math.max(...finite) : Math.min(...finite);
    const atStep = completed.flatMap((t) => reportsByStep(t).filter((r) => r.step === step && Number.isFinite(r.value)).map((r) => r.value));
    if (atStep.length === 0) return false;
    const m = median(atStep);
    return direction === 'maximize' ? best < m : best > m;
  }
}

/** The median (the mean of the two middle values for an even count), as numpy's 50th percentile. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
