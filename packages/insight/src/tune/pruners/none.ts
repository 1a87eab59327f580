// The pruner that never prunes: every trial runs its full epochs.
import type { Direction, TrialRecord } from '../../study/types';
import type { Pruner } from './types';

export class NopPruner implements Pruner {
  readonly name = 'none';

  shouldPrune(_trial: TrialRecord, _allTrials: readonly TrialRecord[], _direction: Direction): boolean {
    return false;
  }
}
