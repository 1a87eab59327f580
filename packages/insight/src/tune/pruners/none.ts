// The pruner that never prunes: every trial runs its full epochs.
import type { Direction, TrialRecord } from '../../study/types';
import type { PruneDecision, Pruner } from './types';

export class NopPruner implements Pruner {
  readonly name = 'none';

  decide(_trial: TrialRecord, _allTrials: readonly TrialRecord[], _direction: Direction): PruneDecision {
    return 'continue';
  }
}
