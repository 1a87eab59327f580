// What every pruner of `insight tune` is: after a trial reports its metric for an epoch (its latest intermediate
// value), does it go on, stop for good (pruned) or pause (its run's checkpoint kept, resumed if it is promoted
// later)? Pure: decided from the trial and all of the study's trials (their reports), no state kept, so any worker
// on any machine decides the same.
import type { Direction, TrialRecord } from '../../study/types';

/** What a trial does after an epoch's report. */
export type PruneDecision = 'continue' | 'prune' | 'pause';

export interface Pruner {
  readonly name: string;
  /** After `trial`'s latest report. `allTrials` may include `trial` itself. Only a pruner with promotion() pauses. */
  decide(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): PruneDecision;
  /**
   * Pruners that pause (ASHA): the paused trial to resume now, or null. A worker asks before it takes any other
   * trial; once the budget is spent and nothing runs, it asks once more with `final` and prunes the paused trials
   * that answer leaves. Only paused trials that `resumable` accepts (default: all) are candidates; every trial's
   * values still rank the rungs.
   */
  promotion?(allTrials: readonly TrialRecord[], direction: Direction, options?: PromotionOptions): TrialRecord | null;
}

export interface PromotionOptions {
  /** The study is ending (budget spent, nothing running): a rung with fewer than η values promotes its best. */
  final?: boolean;
  /** Whether this worker can resume a paused trial (its run's checkpoint is reachable here). */
  resumable?: (trial: TrialRecord) => boolean;
}

/** The trial's reports sorted by step (a repeated step keeps its last value, as the storage does). */
export function reportsByStep(trial: TrialRecord): { step: number; value: number }[] {
  const byStep = new Map<number, number>();
  for (const { step, value } of trial.intermediate) byStep.set(step, value);
  return [...byStep].map(([step, value]) => ({ step, value })).sort((a, b) => a.step - b.step);
}
