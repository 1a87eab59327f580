// The pruner that never prunes: every trial runs its full epochs.
import type { Pruner } from './types';

export class NopPruner implements Pruner {
  readonly name = 'none';

  shouldPrune(): boolean {
    return false;
  }
}
