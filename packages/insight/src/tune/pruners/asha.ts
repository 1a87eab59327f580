// ASHA, asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys
// 2020, Algorithm 2). Rungs sit at epochs r·η^(s+k), k = 0, 1, ... (r = minResource, η = reductionFactor,
// s = minEarlyStoppingRate), each rung at most R/η, R = maxResource (the epochs of a full trial): 1 and 3 for
// r = 1, η = 3, R = 10; a trial promoted from the top rung trains to R. A rung's value of a trial is its first report
// at or past the rung's epoch.
// - When a trial's report reaches a rung, it goes on only if it is among the best ⌊n/η⌋ of the n values recorded at
//   that rung (itself included; ties pass); otherwise it PAUSES there (its run keeps its checkpoint). With n < η
//   nobody goes on yet: the first trials wait for the rung to fill instead of being judged against two values.
// - promotion(): before a worker takes any other trial, the paused trial that is now among the best ⌊n/η⌋ of its rung
//   (more trials have reached it since), highest rung first, is resumed — the paper's get_job.
// - When the budget is spent and nothing runs, a rung that holds fewer than η values promotes its best (`final`), so
//   a small budget still completes a trial; the paused trials left are pruned (tune/worker.ts).
// Ties pass: with a discrete metric (accuracy on few images) a rung may promote more than ⌊n/η⌋.
// A non-finite value is pruned at once. Failed and waiting trials are left out of every rung (a trial whose worker
// died is retried with the same params: counting both would count it twice).
import type { Direction, TrialRecord } from '../../study/types';
import { reportsByStep, type PromotionOptions, type PruneDecision, type Pruner } from './types';

export interface AshaOptions {
  /** r: the first rung's epoch. */
  minResource: number;
  /** η: a rung promotes its best 1/η. */
  reductionFactor: number;
  /** s: rungs start at r·η^s. */
  minEarlyStoppingRate: number;
  /** R: the epochs of a full trial (rungs stay at or below R/η); Infinity: rungs without end. */
  maxResource: number;
}

export const ASHA_DEFAULTS: AshaOptions = { minResource: 1, reductionFactor: 3, minEarlyStoppingRate: 0, maxResource: Infinity };

export class AshaPruner implements Pruner {
  readonly name = 'asha';
  readonly options: AshaOptions;

  constructor(options: Partial<AshaOptions> = {}) {
    this.options = { ...ASHA_DEFAULTS, ...options };
  }

  /** The epoch of rung k: r·η^(s+k) (whether or not it is below R/η). */
  rungStep(k: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    return minResource * reductionFactor ** (minEarlyStoppingRate + k);
  }

  /** The rungs' epochs up to `upTo` (and at most R/η), lowest first. */
  rungSteps(upTo = Infinity): number[] {
    const steps: number[] = [];
    for (let k = 0; ; k++) {
      const step = this.rungStep(k);
      if (!Number.isFinite(step) || step > upTo || step * this.options.reductionFactor > this.options.maxResource) return steps;
      steps.push(step);
    }
  }

  decide(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): PruneDecision {
    const reports = reportsByStep(trial);
    if (reports.length === 0) return 'continue';
    const latest = reports[reports.length - 1];
    const previousStep = reports.length > 1 ? reports[reports.length - 2].step : -Infinity;
    if (!Number.isFinite(latest.value)) return 'prune';
    const others = allTrials.filter((t) => t.id !== trial.id);
    for (const step of this.rungSteps(latest.step)) {
      if (step <= previousStep) continue; // decided when an earlier report reached it
      const competing = [latest.value, ...rungValues(others, step)];
      if (!promotable(latest.value, competing, this.options.reductionFactor, direction)) return 'pause';
    }
    return 'continue';
  }

  promotion(allTrials: readonly TrialRecord[], direction: Direction, options: PromotionOptions = {}): TrialRecord | null {
    const { final = false, resumable = () => true } = options;
    const paused = allTrials.filter((t) => t.state === 'paused' && resumable(t));
    if (paused.length === 0) return null;
    const lastStep = Math.max(...paused.map((t) => reportsByStep(t).at(-1)?.step ?? 0));
    const steps = this.rungSteps(lastStep);
    for (let k = steps.length - 1; k >= 0; k--) {
      const next = k + 1 < steps.length ? steps[k + 1] : Infinity;
      const competing = rungValues(allTrials, steps[k]);
      const waiting = paused
        .filter((t) => { const last = reportsByStep(t).at(-1)?.step ?? 0; return last >= steps[k] && last < next; })
        .map((t) => ({ trial: t, value: valueAtRung(t, steps[k]) }))
        .filter((c): c is { trial: TrialRecord; value: number } => c.value !== null &&
          promotable(c.value, competing, this.options.reductionFactor, direction, final))
        .sort((a, b) => (direction === 'maximize' ? b.value - a.value : a.value - b.value) || a.trial.number - b.trial.number);
      if (waiting.length > 0) return waiting[0].trial;
    }
    return null;
  }
}

/** The values recorded at the rung of `step` by trials that count (not failed, not waiting). */
function rungValues(trials: readonly TrialRecord[], step: number): number[] {
  return trials.filter((t) => t.state !== 'failed' && t.state !== 'waiting').map((t) => valueAtRung(t, step)).filter((v): v is number => v !== null);
}

/** What `trial` recorded at the rung of `step`: its first report at or past it, or null (not there yet, or non-finite). */
export function valueAtRung(trial: TrialRecord, step: number): number | null {
  const report = reportsByStep(trial).find((r) => r.step >= step);
  return report && Number.isFinite(report.value) ? report.value : null;
}

/**
 * Among the best ⌊n/η⌋ of the n values `competing` (which holds `value`), ties included: with n < η, no value is —
 * unless `atLeastOne` (the study's end), when the best is.
 */
export function promotable(value: number, competing: readonly number[], reductionFactor: number, direction: Direction, atLeastOne = false): boolean {
  const keep = Math.max(atLeastOne ? 1 : 0, Math.floor(competing.length / reductionFactor));
  if (keep === 0) return false;
  const sorted = [...competing].sort((a, b) => (direction === 'maximize' ? b - a : a - b));
  const threshold = sorted[keep - 1];
  return direction === 'maximize' ? value >= threshold : value <= threshold;
}
