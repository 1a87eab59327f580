// step: lr · gamma^floor(epoch / stepEpochs), the epoch being floor(step / stepsPerEpoch) — e.g. ×0.1 every 30 epochs.
import type { LearningRateSchedule } from './schedule';

export class StepSchedule implements LearningRateSchedule {
  readonly name = 'step';
  constructor(
    private readonly lr: number,
    private readonly stepsPerEpoch: number,
    private readonly stepEpochs: number,
    private readonly gamma: number,
  ) {}

  lrAt(step: number): number {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    return this.lr * this.gamma ** Math.floor(epoch / this.stepEpochs);
  }
}
