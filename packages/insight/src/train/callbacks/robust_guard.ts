// Adversarial training's catastrophic-overfitting guard as a training callback. The trainer measures the epoch's PGD
// robust accuracy on a fixed held-out batch (FitOptions.epochMetrics → logs.val_robust_accuracy, before any
// callback runs); this callback hands it to the guard's rule (robust/adversarial/guard.ts), keeps the best epoch's
// weights (robust/adversarial/best_weights.ts) and, at a collapse, puts them back into the model and stops training
// (Wong et al.'s early stopping). It runs before ModelCheckpoint, so checkpoints/last — and then model/ and the final
// report — hold the rolled-back weights; its state (best, best epoch, the collapse) is checkpointed with the run.
import { BestWeights } from '../../robust/adversarial/best_weights';
import { CollapseGuard, type GuardState } from '../../robust/adversarial/guard';
import type { EpochLogs } from '../state';
import type { Callback, TrainingContext } from './callback';

/** What stopped training, as run.json's summary and the guard's checkpointed state record it. */
export interface GuardCollapse {
  /** The epoch (1-based) whose robust accuracy collapsed. */
  epoch: number;
  robustAccuracy: number;
  reason: string;
  /** The epoch whose weights the model was rolled back to (null: there were none to roll back to). */
  rolledBackTo: number | null;
}

interface SavedState extends GuardState {
  collapse: GuardCollapse | null;
}

export class RobustGuard implements Callback {
  readonly name = 'robustGuard';
  private collapse: GuardCollapse | null = null;

  constructor(private readonly guard: CollapseGuard, private readonly weights: BestWeights) {}

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const accuracy = logs.val_robust_accuracy;
    if (accuracy === undefined) return;
    const verdict = this.guard.observe(logs.epoch, accuracy);
    if (verdict.kind === 'best') await this.weights.capture(ctx.model, { epoch: logs.epoch, robustAccuracy: accuracy });
    if (verdict.kind !== 'collapse') return;
    const rolledBackTo = await this.weights.restore(ctx.model, this.guard.bestEpoch);
    ctx.state.stopTraining = true;
    this.collapse = { epoch: logs.epoch, robustAccuracy: accuracy, reason: verdict.reason, rolledBackTo };
    ctx.note(`Catastrophic-overfitting guard: after epoch ${logs.epoch} ${verdict.reason}; ` +
      `${rolledBackTo === null ? 'no earlier weights to roll back to' : `rolled back to epoch ${rolledBackTo}'s weights`}, training stops.`);
  }

  /** The guard's account of the run: best robust accuracy and its epoch, and the collapse that stopped it (or null). */
  record(): { best: number | null; bestEpoch: number | null; collapse: GuardCollapse | null } {
    return { best: this.guard.best, bestEpoch: this.guard.bestEpoch, collapse: this.collapse };
  }

  getState(): SavedState {
    return { ...this.guard.getState(), collapse: this.collapse };
  }

  setState(state: unknown): void {
    const saved = state as Partial<SavedState>;
    this.guard.setState({ best: saved.best ?? null, bestEpoch: saved.bestEpoch ?? null });
    this.collapse = saved.collapse ?? null;
  }

  /** Frees the in-memory copy of the best weights. */
  dispose(): void {
    this.weights.dispose();
  }
}
