// The callbacks of one fit, called as one (Keras's CallbackList): every hook runs each callback in list order,
// awaiting each before the next, so a later callback sees what an earlier one changed — ModelCheckpoint goes
// last to store the others' updated state. Also routes notes and carries callback state in and out of
// TrainerState.callbacks.
import type { Tensor } from '@tensorflow/tfjs-core';

import type { BatchLogs, EpochLogs, TrainerState } from '../state';
import type { Callback, TrainingContext, UpdateInfo } from './callback';

export class CallbackList {
  constructor(readonly callbacks: readonly Callback[]) {}

  /** Gives each callback its saved state from `state.callbacks` (by name), as a resumed run continues. */
  restore(state: TrainerState): void {
    for (const cb of this.callbacks) {
      const saved = state.callbacks[cb.name];
      if (saved !== undefined && cb.setState) cb.setState(saved);
    }
  }

  /** A deep copy of `state` with every stateful callback's current state filled in: what a checkpoint stores. */
  snapshot(state: TrainerState): TrainerState {
    const copy = structuredClone(state);
    for (const cb of this.callbacks) if (cb.getState) copy.callbacks[cb.name] = cb.getState();
    return copy;
  }

  note(message: string): void {
    for (const cb of this.callbacks) cb.onNote?.(message);
  }

  async trainBegin(ctx: TrainingContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainBegin?.(ctx);
  }

  async epochBegin(epochIndex: number, ctx: TrainingContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochBegin?.(epochIndex, ctx);
  }

  async batchEnd(logs: BatchLogs, ctx: TrainingContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchEnd?.(logs, ctx);
  }

  async epochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochEnd?.(logs, ctx);
  }

  async trainEnd(ctx: TrainingContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainEnd?.(ctx);
  }

  /** Shows the gradients of one update to every callback (borrowed: synchronous, the caller disposes them). */
  gradients(grads: readonly Tensor[], info: UpdateInfo, ctx: TrainingContext): void {
    for (const cb of this.callbacks) cb.onGradients?.(grads, info, ctx);
  }
}
