// A learning-rate schedule is a pure function of the optimizer step (0-based update index), so a resumed run
// only needs the step to be back on its curve.

export interface LearningRateSchedule {
  readonly name: string;
  /** The learning rate for update number `step` (0-based). */
  lrAt(step: number): number;
}

/** What every schedule may need to know about the run. */
export interface ScheduleContext {
  /** The base (peak) learning rate. */
  lr: number;
  /** Optimizer updates per epoch (batches / gradient accumulation, rounded up). */
  stepsPerEpoch: number;
  /** Optimizer updates in the whole run. */
  totalSteps: number;
}
