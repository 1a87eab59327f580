// Early stopping (Keras's EarlyStopping): stop when the monitored quantity has not improved by more than
// minDelta for `patience` epochs in a row.
import type { MonitorName } from '../state';
import type { Callback, TrainingContext } from './callback';
import { Monitor } from './monitor';
import type { EpochLogs } from '../state';

export interface EarlyStoppingOptions {
  monitor: MonitorName;
  patience: number;
  minDelta?: number;
}

export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  private readonly monitor: Monitor;
  private best: number | null = null;
  private wait = 0;

  constructor(private readonly options: EarlyStoppingOptions) {
    this.monitor = new Monitor(options.monitor, options.minDelta ?? 0);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const value = this.monitor.read(logs);
    if (this.monitor.improves(value, this.best)) {
      this.best = value;
      this.wait = 0;
      return;
    }
    this.wait++;
    if (this.wait >= this.options.patience) {
      ctx.state.stopTraining = true;
      ctx.note(`Early stopping: ${this.monitor.name} has not improved on ${this.best} for ${this.wait} epochs.`);
    }
  }

  getState(): unknown {
    return { best: this.best, wait: this.wait };
  }

  setState(state: unknown): void {
    const s = state as { best: number | null; wait: number };
    this.best = s.best;
    this.wait = s.wait;
  }
}
