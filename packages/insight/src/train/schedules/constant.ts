// constant: lr at every step (the reference recipe).
import type { LearningRateSchedule } from './schedule';

export class ConstantSchedule implements LearningRateSchedule {
  readonly name = 'constant';
  constructor(private readonly lr: number) {}
  lrAt(): number {
    return this.lr;
  }
}
