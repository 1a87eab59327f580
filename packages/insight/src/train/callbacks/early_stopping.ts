// Early stopping (Keras's EarlyStopping): stop when the monitored quantity has not improved by more than
// minDelta for `patience` epochs in a row.
import type { EpochLogs, MonitorName } from '../state';
import type { TrainingContext } from './callback';
import { MonitorCallback } from './monitor';

export interface EarlyStoppingOptions {
  monitor: MonitorName;
  patience: number;
  minDelta?: number;
}

export class EarlyStopping extends MonitorCallback {
  readonly name = 'earlyStopping';

  constructor(private readonly options: EarlyStoppingOptions) {
    super(options.monitor, options.minDelta ?? 0);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    if (this.observe(logs)) return;
    this.wait++;
    if (this.wait >= this.options.patience) {
      ctx.state.stopTraining = true;
      ctx.note(`Early stopping: ${this.monitor} has not improved on ${this.best} for ${this.wait} epochs.`);
    }
  }
}
