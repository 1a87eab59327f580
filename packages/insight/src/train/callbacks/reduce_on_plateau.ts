// Reduce-on-plateau (Keras's ReduceLROnPlateau): when the monitored quantity has not improved for `patience`
// epochs, multiply the learning rate by `factor` (never below minLr), then wait `cooldown` epochs.
// It acts on TrainerState.lrScale, a multiplier on whatever schedule is running.
import type { EpochLogs, MonitorName } from '../state';
import type { TrainingContext } from './callback';
import { MonitorCallback } from './monitor';

export interface ReduceOnPlateauOptions {
  monitor: MonitorName;
  factor: number;
  patience: number;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

export class ReduceLROnPlateau extends MonitorCallback {
  readonly name = 'reduceOnPlateau';
  private cooldownLeft = 0;

  constructor(private readonly options: ReduceOnPlateauOptions) {
    super(options.monitor, options.minDelta ?? 0);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const inCooldown = this.cooldownLeft > 0;
    if (inCooldown) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    if (this.observe(logs) || inCooldown) return;
    this.wait++;
    if (this.wait < this.options.patience) return;
    const minLr = this.options.minLr ?? 0;
    const scheduled = ctx.scheduledLr(ctx.state.step);
    const current = scheduled * ctx.state.lrScale;
    if (current > minLr) {
      const reduced = Math.max(current * this.options.factor, minLr);
      ctx.state.lrScale = reduced / scheduled;
      ctx.note(`Reduce on plateau: ${this.monitor} has not improved for ${this.wait} epochs; lr ${current.toPrecision(3)} -> ${reduced.toPrecision(3)}.`);
      this.cooldownLeft = this.options.cooldown ?? 0;
      this.wait = 0;
    }
  }

  getState(): unknown {
    return { ...(super.getState() as object), cooldownLeft: this.cooldownLeft };
  }

  setState(state: unknown): void {
    super.setState(state);
    this.cooldownLeft = (state as { cooldownLeft?: number }).cooldownLeft ?? 0;
  }
}
