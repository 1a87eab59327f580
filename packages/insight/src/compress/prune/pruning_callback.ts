// Gradual magnitude pruning during fine-tuning, as a train() callback (TF-MOT's UpdatePruningStep + PruneLowMagnitude
// wrapper, without wrapping layers): after every optimizer update the masks are multiplied into the kernels on the
// backend, so a pruned weight is exactly 0 again whatever the optimizer did to it (Adam's momentum, weight decay);
// at the schedule's pruning steps the masks are first recomputed from the weights' magnitudes at the schedule's
// sparsity. It runs before ModelCheckpoint (train() puts user callbacks first), so checkpoints hold pruned weights;
// a resumed run reads its masks back from the zeros of its weights.
import { tf } from '../../backend';
import type { Callback, TrainingContext } from '../../train/callbacks/callback';
import type { BatchLogs } from '../../train/state';
import { applyMasks, magnitudeMasks, nonzeroMasks, type PruneScope } from './magnitude';
import { prunableWeights, type PrunableWeight } from './prunable';
import type { SparsitySchedule } from './schedule';

export interface PruningCallbackOptions {
  /** null: never recompute the masks, only keep the zeros the weights have at the start (e.g. during QAT). */
  schedule: SparsitySchedule | null;
  scope: PruneScope;
  /** Kernel layers left dense (null: the first and last kernel layer, see prunable.ts). */
  skip: readonly string[] | null;
}

export class PruningCallback implements Callback {
  readonly name = 'pruning';
  private weights: PrunableWeight[] = [];
  private masks: tf.Tensor[] = [];
  private lastStep = -1;
  /** The sparsity the masks were last computed at (NaN before any pruning step). */
  currentSparsity = Number.NaN;
  /** Steps at which the masks were recomputed, in order (for reports and tests). */
  readonly pruningSteps: number[] = [];

  constructor(private readonly options: PruningCallbackOptions) {}

  onTrainBegin(ctx: TrainingContext): void {
    this.weights = prunableWeights(ctx.model, this.options.skip);
    this.setMasks(nonzeroMasks(this.weights));
    this.lastStep = ctx.state.step;
    this.step(ctx.state.step);
  }

  onBatchEnd(logs: BatchLogs): void {
    if (logs.step === this.lastStep) return; // a micro-batch without an update (gradient accumulation)
    this.lastStep = logs.step;
    this.step(logs.step);
  }

  onTrainEnd(): void {
    applyMasks(this.weights, this.masks);
  }

  /** Frees the masks (the callback can be used again after onTrainBegin). */
  dispose(): void {
    tf.dispose(this.masks);
    this.masks = [];
  }

  private step(step: number): void {
    const schedule = this.options.schedule;
    if (schedule !== null && schedule.prunesAt(step)) {
      const sparsity = schedule.sparsityAt(step);
      this.setMasks(magnitudeMasks(this.weights, sparsity, this.options.scope));
      this.currentSparsity = sparsity;
      this.pruningSteps.push(step);
    }
    applyMasks(this.weights, this.masks);
  }

  private setMasks(masks: tf.Tensor[]): void {
    tf.dispose(this.masks);
    this.masks = masks;
  }
}
