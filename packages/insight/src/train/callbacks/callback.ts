// The callback contract (Keras's, trimmed): hooks at the edges of training, epochs and batches, plus optional
// state that checkpoints carry so a resumed run's callbacks continue where they were. Beside it, the one gradient
// hook of a run: it may replace the gradients of an update (clip, prune, all-reduce); callbacks only look at them.
import type { Tensor } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { Optimizer } from '../optimizers';
import type { BatchLogs, EpochLogs, TrainerState } from '../state';

/** What callbacks see and may change (`state.lrScale`, `state.stopTraining`). */
export interface TrainingContext {
  model: tfl.LayersModel;
  optimizer: Optimizer;
  /** Live state; `state.epoch` is already incremented when onEpochEnd runs. */
  state: TrainerState;
  epochs: number;
  batchesPerEpoch: number;
  stepsPerEpoch: number;
  /** The schedule's learning rate at `step` before lrScale. */
  scheduledLr(step: number): number;
  /** A deep copy of the state with every callback's current state filled in: what a checkpoint stores. */
  snapshot(): TrainerState;
  /** A human-readable note (early stopping fired, lr reduced ...), routed to the progress output. */
  note(message: string): void;
}

/** One optimizer update, as gradient hooks and callbacks see it. */
export interface UpdateInfo {
  /** 0-based epoch index. */
  epochIndex: number;
  /** The update's number (1-based, as BatchLogs.step after it). */
  step: number;
  /** True for the epoch's last update. */
  lastOfEpoch: boolean;
  /** Training examples behind the gradients (all accumulated micro-batches): the weight for averaging across workers. */
  examples: number;
}

/**
 * Runs before every optimizer update on the averaged gradients (grads[i] is d loss / d model.trainableWeights[i])
 * and returns the gradients to apply instead, or nothing to apply them unchanged. The trainer owns both: it
 * disposes the given and the returned tensors after the update, so neither dispose nor keep them (clone what you
 * keep); wrap intermediate computations in tf.tidy. Callbacks' onGradients see the returned gradients.
 * Example (clip every gradient to [-1, 1]): `(grads) => grads.map((g) => tf.clipByValue(g, -1, 1))`.
 */
export type GradientHook = (grads: readonly Tensor[], info: UpdateInfo, ctx: TrainingContext) =>
  readonly Tensor[] | void | Promise<readonly Tensor[] | void>;

export interface Callback {
  /** Key of this callback's state in TrainerState.callbacks. */
  readonly name: string;
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onEpochBegin?(epochIndex: number, ctx: TrainingContext): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs, ctx: TrainingContext): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, ctx: TrainingContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainingContext): void | Promise<void>;
  /**
   * The gradients of one optimizer update just before it is applied (after the run's GradientHook): grads[i] is
   * d loss / d model.trainableWeights[i], averaged over accumulated micro-batches. Synchronous and borrowed: the
   * trainer disposes them next, so clone what you keep. To change gradients, use a GradientHook.
   */
  onGradients?(grads: readonly Tensor[], info: UpdateInfo, ctx: TrainingContext): void;
  /** JSON-serialisable state to checkpoint, and its restore. */
  getState?(): unknown;
  setState?(state: unknown): void;
  /** Receives notes from other callbacks (progress output implements it). */
  onNote?(message: string): void;
}
