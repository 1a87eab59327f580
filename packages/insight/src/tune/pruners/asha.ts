// ASHA, asynchronous successive halving (Li et al. 2020), with the semantics of Optuna's SuccessiveHalvingPruner
// (optuna/pruners/_successive_halving.py). Rungs sit at steps (epochs) r·η^(s+k), k = 0, 1, ... (r = minResource,
// η = reductionFactor, s = minEarlyStoppingRate): 1, 3, 9, 27 ... by default. When a trial's report first reaches a
// rung, it competes with the value every other trial recorded there (its first report at or past the rung's step),
// itself included: it goes on only if it is among the best ⌊n/η⌋ of those n values (ties pass); when n < η that is
// no one, and, as in Optuna (which cannot pause a trial and resume it later, as the paper's ASHA does), the trial goes
// on only if it is the best so far at that rung. A non-finite value is pruned at once. Trials that failed are left out
// of the competition (a trial whose worker died is retried with the same params: counting both would count it twice).
import type { Direction, TrialRecord } from '../../study/types';
import { reportsByStep, type Pruner } from './types';

export interface AshaOptions {
  /** r: the first rung's step, in epochs. */
  minResource: number;
  /** η: a rung keeps the top 1/η. */
  reductionFactor: number;
  /** s: rungs start at r·η^s. */
  minEarlyStoppingRate: number;
}

export const ASHA_DEFAULTS: AshaOptions = { minResource: 1, reductionFactor: 3, minEarlyStoppingRate: 0 };

export class AshaPruner implements Pruner {
  readonly name = 'asha';
  readonly options: AshaOptions;

  constructor(options: Partial<AshaOptions> = {}) {
    this.options = { ...ASHA_DEFAULTS, ...options };
  }

  /** The step of rung k: r·η^(s+k). */
  rungStep(k: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    return minResource * reductionFactor ** (minEarlyStoppingRate + k);
  }

  shouldPrune(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): boolean {
    const reports = reportsByStep(trial);
    if (reports.length === 0) return false;
    const latest = reports[reports.length - 1];
    const previousStep = reports.length > 1 ? reports[reports.length - 2].step : -Infinity;
    if (!Number.isFinite(latest.value)) return true;
    const others = allTrials.filter((t) => t.id !== trial.id && t.state !== 'failed' && t.state !== 'waiting');
    for (let k = 0; this.rungStep(k) <= latest.step; k++) {
      const step = this.rungStep(k);
      if (step <= previousStep) continue; // decided when an earlier report reached it
      const competing = [latest.value, ...others.map((t) => valueAtRung(t, step)).filter((v): v is number => v !== null)];
      if (!promotable(latest.value, competing, this.options.reductionFactor, direction)) return true;
    }
    return false;
  }
}

/** What `trial` recorded at the rung of `step`: its first report at or past it, or null (not there yet, or non-finite). */
export function valueAtRung(trial: TrialRecord, step: number): number | null {
  const report = reportsByStep(trial).find((r) => r.step >= step);
  return report && Number.isFinite(report.value) ? report.value : null;
}

/** Among the best max(1, ⌊n/η⌋) of `competing` (which holds `value`), ties included. */
export function promotable(value: number, competing: readonly number[], reductionFactor: number, direction: Direction): boolean {
  const keep = Math.max(1, Math.floor(competing.length / reductionFactor));
  const sorted = [...competing].sort((a, b) => (direction === 'maximize' ? b - a : a - b));
  const threshold = sorted[keep - 1];
  return direction === 'maximize' ? value >= threshold : value <= threshold;
}
