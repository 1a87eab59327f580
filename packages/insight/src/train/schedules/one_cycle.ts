// one-cycle (Smith & Topin), per step, as PyTorch's OneCycleLR with cosine annealing: from lr/divFactor up to lr
// over the first pctStart of the steps, then down to lr/(divFactor·finalDivFactor) at the last step.
import type { LearningRateSchedule } from './schedule';

/** Cosine interpolation from `start` (pct 0) to `end` (pct 1). */
function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct));
}

export class OneCycleSchedule implements LearningRateSchedule {
  readonly name = 'onecycle';
  private readonly initialLr: number;
  private readonly finalLr: number;
  private readonly peakStep: number;
  private readonly lastStep: number;

  constructor(private readonly maxLr: number, totalSteps: number, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4) {
    this.initialLr = maxLr / divFactor;
    this.finalLr = this.initialLr / finalDivFactor;
    this.peakStep = pctStart * totalSteps - 1;
    this.lastStep = totalSteps - 1;
  }

  lrAt(step: number): number {
    if (step <= this.peakStep) return annealCos(this.initialLr, this.maxLr, this.peakStep <= 0 ? 1 : step / this.peakStep);
    const pct = (step - this.peakStep) / Math.max(1e-12, this.lastStep - this.peakStep);
    return annealCos(this.maxLr, this.finalLr, Math.min(1, pct));
  }
}
