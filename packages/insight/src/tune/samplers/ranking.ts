// How finished trials rank, best first, for TPE's good/bad split and for parameter importance: completed trials
// by value, then pruned and paused trials by how far they got (last reported step, later first) and then by that
// step's value, then pruned trials that reported nothing. Running, waiting and failed trials have no result and are left out.
// (Optuna ranks by the same key: (-step, value) with step = +inf for completed trials.)
import type { Direction, TrialRecord } from '../../study/types';

export interface RankedTrial {
  trial: TrialRecord;
  /** Lexicographic, smaller is better: [group (0 completed, 1 pruned, 2 pruned without reports), -step, loss]. */
  key: [number, number, number];
}

/** The completed and pruned trials, best first (ties keep trial order). */
export function rankTrials(trials: readonly TrialRecord[], direction: Direction): RankedTrial[] {
  const sign = direction === 'minimize' ? 1 : -1;
  const loss = (value: number | null) => (value === null || !Number.isFinite(value) ? Infinity : sign * value);
  const ranked: RankedTrial[] = [];
  for (const trial of trials) {
    if (trial.state === 'completed') {
      ranked.push({ trial, key: [0, 0, loss(trial.value)] });
    } else if (trial.state === 'pruned' || trial.state === 'paused') {
      const last = trial.intermediate.reduce<{ step: number; value: number } | null>((a, b) => (a === null || b.step > a.step ? b : a), null);
      ranked.push({ trial, key: last ? [1, -last.step, loss(last.value)] : [2, 0, 0] });
    }
  }
  return ranked.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || compareLoss(a.key[2], b.key[2]) || a.trial.number - b.trial.number);
}

function compareLoss(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1; // Infinity - Infinity would be NaN
}
