// Reduce-on-plateau (Keras's ReduceLROnPlateau): when the monitored quantity has not improved for `patience`
// epochs, multiply the learning rate by `factor` (never below minLr), then wait `cooldown` epochs.
// It acts on TrainerState.lrScale, a multiplier on whatever schedule is running.
import type { EpochLogs, MonitorName } from '../state';
import type { Callback, TrainingContext } from './callback';
import { Monitor } from './monitor';

export interface ReduceOnPlateauOptions {
  monitor: MonitorName;
  factor: number;
  patience: number;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

export class ReduceLROnPlateau implements Callback {
  readonly name = 'reduceOnPlateau';
  private readonly monitor: Monitor;
  private best: number | null = null;
  private wait = 0;
  private cooldownLeft = 0;

  constructor(private readonly options: ReduceOnPlateauOptions) {
    this.monitor = new Monitor(options.monitor, options.minDelta ?? 0);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const value = this.monitor.read(logs);
    const inCooldown = this.cooldownLeft > 0;
    if (inCooldown) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    if (this.monitor.improves(value, this.best)) {
      this.best = value;
      this.wait = 0;
      return;
    }
    if (inCooldown) return;
    this.wait++;
    if (this.wait < this.options.patience) return;
    const minLr = this.options.minLr ?? 0;
    const scheduled = ctx.scheduledLr(ctx.state.step);
    const current = scheduled * ctx.state.lrScale;
    if (current > minLr) {
      const reduced = Math.max(current * this.options.factor, minLr);
      ctx.state.lrScale = reduced / scheduled;
      ctx.note(`Reduce on plateau: ${this.monitor.name} has not improved for ${this.wait} epochs; lr ${current.toPrecision(3)} -> ${reduced.toPrecision(3)}.`);
      this.cooldownLeft = this.options.cooldown ?? 0;
      this.wait = 0;
    }
  }

  getState(): unknown {
    return { best: this.best, wait: this.wait, cooldownLeft: this.cooldownLeft };
  }

  setState(state: unknown): void {
    const s = state as { best: number | null; wait: number; cooldownLeft: number };
    this.best = s.best;
    this.wait = s.wait;
    this.cooldownLeft = s.cooldownLeft;
  }
}
