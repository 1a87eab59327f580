// What a study's trials add up to, for every reader of a study (`insight tune show`, the dashboard): the count of
// trials in each state and the best completed trial. Pruned trials stopped early, so their values are not compared.
import type { Direction, TrialState } from './types';

/** How many of `trials` are in each state. */
export function countByState(trials: readonly { state: TrialState }[]): Record<TrialState, number> {
  const counts: Record<TrialState, number> = { waiting: 0, running: 0, paused: 0, completed: 0, pruned: 0, failed: 0 };
  for (const trial of trials) counts[trial.state]++;
  return counts;
}

/** The best of `trials` by value in `direction`, among completed ones (the first of equals), or null. */
export function bestTrial<T extends { state: TrialState; value: number | null }>(trials: readonly T[], direction: Direction): T | null {
  let best: T | null = null;
  for (const trial of trials) {
    if (trial.state !== 'completed' || trial.value === null) continue;
    if (best === null || (direction === 'maximize' ? trial.value > best.value! : trial.value < best.value!)) best = trial;
  }
  return best;
}
