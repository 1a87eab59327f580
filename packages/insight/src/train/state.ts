// What the training loop is, between two optimizer updates: enough to continue a run exactly. Every source of
// randomness is a pure function of (seed, epoch, step) — the loader's order and augmentation of (seed, epoch, batch),
// dropout masks of (seed, step) — so these counters are the whole RNG state. Between epochs `inEpoch` is null; a
// checkpoint taken inside an epoch (every N steps, or at a signal) records how far into the epoch it is, and a
// resumed fit skips the batches already trained.

/** The trainer's persistent state (stored as trainer.json in every checkpoint). */
export interface TrainerState {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer updates applied (the schedule's position). */
  step: number;
  /** Multiplier on the schedule's learning rate, lowered by reduce-on-plateau. */
  lrScale: number;
  /** The run's seed: loader order/augmentation, dropout masks. */
  seed: number;
  /** Set by early stopping; the loop ends after the current epoch. */
  stopTraining: boolean;
  /** Each stateful callback's state, by callback name. */
  callbacks: Record<string, unknown>;
  /** Logs of the completed epochs. */
  history: EpochLogs[];
  /**
   * The epoch target when the state was saved (absent in checkpoints of older runs). A fit with a larger target
   * extends the run (as Keras's initial_epoch): an early stop of the old run no longer holds.
   */
  epochs?: number;
  /** Progress into the incomplete epoch `epoch` (0-based) at the last optimizer update; null between epochs. */
  inEpoch?: EpochProgress | null;
}

/** How far an epoch has got, at an optimizer update: enough to continue it and log the same running means. */
export interface EpochProgress {
  /** Batches of the epoch trained into the weights (1-based count; the next batch has this index). */
  batch: number;
  /** Images trained, and the sums behind the running loss and accuracy. */
  seen: number;
  lossSum: number;
  correctSum: number;
  /** Learning rate of the last update. */
  lr: number;
  /** Seconds spent in the epoch so far. */
  seconds: number;
}

/** Logged after each batch (running means over the epoch so far). */
export interface BatchLogs {
  /** 0-based epoch index. */
  epochIndex: number;
  /** Batches done in this epoch (1-based) and per epoch. */
  batch: number;
  batchesPerEpoch: number;
  /** Optimizer updates applied so far in the run. */
  step: number;
  loss: number;
  accuracy: number;
  lr: number;
  imagesPerSecond: number;
  /** Seconds since the epoch began. */
  seconds: number;
}

/** Logged after each epoch. `epoch` counts completed epochs (1 after the first). */
export interface EpochLogs {
  epoch: number;
  step: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Adversarial training: PGD robust accuracy on the guard's held-out batch (robust/adversarial/robust_check.ts). */
  val_robust_accuracy?: number;
  /** Learning rate of the epoch's last update. */
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  /** Data parallel only: seconds of the epoch this rank spent waiting for the gradients' allreduce. */
  allreduceSeconds?: number;
  /** torch backend: libtorch threads most of the epoch's updates ran with (they adapt to contention: thread_governor.ts). */
  threads?: number;
}

/**
 * Quantities a callback can monitor; *loss is minimised, *accuracy maximised. val_robust_accuracy is logged by
 * adversarial training's guard (--adversarial with --adv-guard-images > 0: checkRobustMonitor).
 */
export const MONITORS = ['val_loss', 'val_accuracy', 'loss', 'accuracy', 'val_robust_accuracy'] as const;
export type MonitorName = (typeof MONITORS)[number];

export function initialTrainerState(seed: number): TrainerState {
  return { epoch: 0, step: 0, lrScale: 1, seed, stopTraining: false, callbacks: {}, history: [], inEpoch: null };
}
