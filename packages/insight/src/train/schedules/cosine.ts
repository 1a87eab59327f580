// cosine with linear warmup: lr·(step + 1)/warmupSteps for the first warmupSteps updates, then cosine decay
// from lr to minLr at the last step:  minLr + (lr − minLr)·½(1 + cos(π·p)),  p = (step − warmup)/(total − warmup).
import type { LearningRateSchedule } from './schedule';

export class CosineSchedule implements LearningRateSchedule {
  readonly name = 'cosine';
  constructor(
    private readonly lr: number,
    private readonly totalSteps: number,
    private readonly warmupSteps: number,
    private readonly minLr: number,
  ) {}

  lrAt(step: number): number {
    if (step < this.warmupSteps) return (this.lr * (step + 1)) / this.warmupSteps;
    const decaySteps = Math.max(1, this.totalSteps - this.warmupSteps);
    const progress = Math.min(1, (step - this.warmupSteps) / decaySteps);
    return this.minLr + (this.lr - this.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
}
