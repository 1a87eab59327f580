// The monitored quantity of early stopping, reduce-on-plateau and best checkpoints.
import { ruleError } from '../../errors';
import type { EpochLogs, MonitorName } from '../state';

export class Monitor {
  /** 'min' for losses, 'max' for accuracies. */
  readonly mode: 'min' | 'max';
  constructor(readonly name: MonitorName, private readonly minDelta = 0) {
    this.mode = name.endsWith('loss') ? 'min' : 'max';
  }

  /** The monitored value in `logs`; throws when the epoch did not produce it (e.g. no validation split). */
  read(logs: EpochLogs): number {
    const value = logs[this.name];
    if (typeof value !== 'number') {
      throw ruleError('INSIGHT_E_CONFIG', 'A monitored metric must be logged every epoch.', { monitor: this.name },
        'Monitor a training metric (loss, accuracy) or keep a validation split (validationCount > 0).');
    }
    return value;
  }

  /** True when `value` beats `best` by more than minDelta (any value beats null). */
  improves(value: number, best: number | null): boolean {
    if (best === null) return true;
    return this.mode === 'min' ? value < best - this.minDelta : value > best + this.minDelta;
  }
}
