// The base of every callback that watches one epoch metric (Keras 3's MonitorCallback): early stopping,
// reduce-on-plateau and the best checkpoint share its bookkeeping — which way is better, the best value so far,
// and how many epochs have passed without beating it — and so checkpoint and restore it the same way.
import { ruleError } from '../../errors';
import type { EpochLogs, MonitorName } from '../state';
import type { Callback } from './callback';

/** The checkpointed part of a monitor: the best value so far (null before the first epoch) and epochs since it. */
export interface MonitorState {
  best: number | null;
  wait: number;
}

export abstract class MonitorCallback implements Callback {
  abstract readonly name: string;
  /** 'min' for losses, 'max' for accuracies. */
  readonly mode: 'min' | 'max';
  protected best: number | null = null;
  /** Epochs in a row without an improvement, as the subclass counts them. */
  protected wait = 0;

  /** minDelta: an improvement must beat the best value by more than this. */
  constructor(readonly monitor: MonitorName, protected readonly minDelta = 0) {
    this.mode = monitor.endsWith('loss') ? 'min' : 'max';
  }

  /** The monitored value in `logs`; throws when the epoch did not produce it (e.g. no validation split). */
  protected read(logs: EpochLogs): number {
    const value = logs[this.monitor];
    if (typeof value !== 'number') {
      throw ruleError('INSIGHT_E_CONFIG', 'A monitored metric must be logged every epoch.', { monitor: this.monitor },
        'Monitor a training metric (loss, accuracy) or keep a validation split (validationCount > 0).');
    }
    return value;
  }

  /** True when `value` beats the best value by more than minDelta (anything beats no best value). */
  protected isImprovement(value: number): boolean {
    if (this.best === null) return true;
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  /**
   * Reads the epoch's value; an improvement becomes the best value and resets `wait`. Returns whether it improved
   * (counting a non-improvement into `wait` is the subclass's call: reduce-on-plateau skips it during cooldown).
   */
  protected observe(logs: EpochLogs): boolean {
    const value = this.read(logs);
    if (!this.isImprovement(value)) return false;
    this.best = value;
    this.wait = 0;
    return true;
  }

  getState(): unknown {
    return { best: this.best, wait: this.wait } satisfies MonitorState;
  }

  setState(state: unknown): void {
    const s = state as Partial<MonitorState>;
    this.best = s.best ?? null;
    this.wait = s.wait ?? 0;
  }
}
