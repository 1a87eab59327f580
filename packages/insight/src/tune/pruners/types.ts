// What every pruner of `insight tune` is: after a trial reports its metric for an epoch (its latest intermediate
// value), should it stop? Pure: decided from the trial and all of the study's trials (their reports), no state kept,
// so any worker on any machine decides the same.
import type { Direction, TrialRecord } from '../../study/types';

export interface Pruner {
  readonly name: string;
  /** true: stop the trial now (it is recorded as pruned with its last value). `allTrials` may include `trial` itself. */
  shouldPrune(trial: TrialRecord, allTrials: readonly TrialRecord[], direction: Direction): boolean;
}

/** The trial's reports sorted by step (a repeated step keeps its last value, as the storage does). */
export function reportsByStep(trial: TrialRecord): { step: number; value: number }[] {
  const byStep = new Map<number, number>();
  for (const { step, value } of trial.intermediate) byStep.set(step, value);
  return [...byStep].map(([step, value]) => ({ step, value })).sort((a, b) => a.step - b.step);
}
