// The catastrophic-overfitting guard's rule. FGSM training can collapse within an epoch: the model learns to beat
// the one-step attack while its robustness to multi-step attacks falls to ~0 (Wong et al. 2020, section 5.1). After
// every epoch the trainer measures PGD robust accuracy on a fixed held-out batch (robust_check.ts); this guard keeps
// its best value and calls a collapse when an epoch's value falls
//   more than `drop` below the best (Wong et al.'s early stop: 0.2, i.e. 20 points), or
//   below `ratio` x the best (default 0.5; 0 turns this half of the rule off),
// whichever comes first. The run then rolls back to the best epoch's weights and stops (Wong et al.'s early stopping).

export interface CollapseRule {
  /** A collapse: accuracy < best - drop (fraction, 0 .. 1). */
  drop: number;
  /** ... or accuracy < ratio x best (0 = off). */
  ratio: number;
}

/** What an epoch's robust accuracy means for the run. */
export type GuardVerdict =
  | { kind: 'best' }
  | { kind: 'steady' }
  | { kind: 'collapse'; reason: string };

/** The guard's memory (checkpointed, so a resumed run continues it). */
export interface GuardState {
  best: number | null;
  bestEpoch: number | null;
}

/** Why `accuracy` is a collapse from `best` under `rule`, or null when it is not. */
export function collapseReason(accuracy: number, best: number, rule: CollapseRule): string | null {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  if (accuracy < best - rule.drop) {
    return `robust accuracy ${pct(accuracy)} is more than ${(rule.drop * 100).toFixed(1)} points below its best ${pct(best)}`;
  }
  if (accuracy < rule.ratio * best) return `robust accuracy ${pct(accuracy)} is below ${rule.ratio} x its best ${pct(best)}`;
  return null;
}

export class CollapseGuard {
  private state: GuardState = { best: null, bestEpoch: null };

  constructor(readonly rule: CollapseRule) {}

  get best(): number | null {
    return this.state.best;
  }

  get bestEpoch(): number | null {
    return this.state.bestEpoch;
  }

  /** Records epoch `epoch`'s (1-based) robust accuracy: a new best (ties keep the earlier), steady, or a collapse. */
  observe(epoch: number, accuracy: number): GuardVerdict {
    const { best } = this.state;
    if (best === null || accuracy > best) {
      this.state = { best: accuracy, bestEpoch: epoch };
      return { kind: 'best' };
    }
    const reason = collapseReason(accuracy, best, this.rule);
    return reason === null ? { kind: 'steady' } : { kind: 'collapse', reason };
  }

  getState(): GuardState {
    return { ...this.state };
  }

  setState(state: GuardState): void {
    this.state = { best: state.best ?? null, bestEpoch: state.bestEpoch ?? null };
  }
}
