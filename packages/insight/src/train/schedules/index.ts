// The schedule registry: name → schedule, for configs and the CLI.
import { ConstantSchedule } from './constant';
import { CosineSchedule } from './cosine';
import type { ScheduleName } from './names';
import { OneCycleSchedule } from './one_cycle';
import type { LearningRateSchedule, ScheduleContext } from './schedule';
import { StepSchedule } from './step';

export type { LearningRateSchedule, ScheduleContext } from './schedule';
export { ConstantSchedule, CosineSchedule, OneCycleSchedule, StepSchedule };

export { SCHEDULE_NAMES, type ScheduleName } from './names';

/** Schedule hyper-parameters; each schedule uses the ones that apply to it. */
export interface ScheduleSettings {
  /** cosine: linear warmup length in epochs (may be fractional). */
  warmupEpochs: number;
  /** cosine: final learning rate. */
  minLr: number;
  /** step: epochs between decays. */
  stepEpochs: number;
  /** step: decay factor. */
  gamma: number;
}

export function createSchedule(name: ScheduleName, ctx: ScheduleContext, s: ScheduleSettings): LearningRateSchedule {
  switch (name) {
    case 'constant':
      return new ConstantSchedule(ctx.lr);
    case 'step':
      return new StepSchedule(ctx.lr, ctx.stepsPerEpoch, s.stepEpochs, s.gamma);
    case 'cosine':
      return new CosineSchedule(ctx.lr, ctx.totalSteps, Math.round(s.warmupEpochs * ctx.stepsPerEpoch), s.minLr);
    case 'onecycle':
      return new OneCycleSchedule(ctx.lr, ctx.totalSteps);
  }
}
