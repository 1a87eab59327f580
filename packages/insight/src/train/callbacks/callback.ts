// The callback contract (Keras's, trimmed): hooks at the edges of training, epochs and batches, plus optional
// state that checkpoints carry so a resumed run's callbacks continue where they were.
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

export interface Callback {
  /** Key of this callback's state in TrainerState.callbacks. */
  readonly name: string;
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onEpochBegin?(epochIndex: number, ctx: TrainingContext): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs, ctx: TrainingContext): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, ctx: TrainingContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainingContext): void | Promise<void>;
  /**
   * The gradients of one optimizer update just before it is applied: grads[i] is d loss / d
   * model.trainableWeights[i] (averaged over accumulated micro-batches); `step` is the update's number (1-based,
   * as BatchLogs.step after it). Synchronous and borrowed: the trainer disposes them next, so clone what you keep.
   */
  onGradients?(grads: readonly Tensor[], info: { epochIndex: number; step: number; lastOfEpoch: boolean }, ctx: TrainingContext): void;
  /** JSON-serialisable state to checkpoint, and its restore. */
  getState?(): unknown;
  setState?(state: unknown): void;
  /** Receives notes from other callbacks (progress output implements it). */
  onNote?(message: string): void;
}
