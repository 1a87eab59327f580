// metrics.jsonl of a run: one JSON object per epoch ({ type: 'epoch', epoch, step, loss, accuracy, val_loss,
// val_accuracy, val_robust_accuracy (adversarial training), lr, seconds, imagesPerSecond }) and, with everySteps > 0, one per that many optimizer updates
// ({ type: 'step', epoch, step, loss, accuracy, lr }, running means over the epoch so far).
import type { RunDir } from '../../run/run_dir';
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback } from './callback';

export class MetricsLog implements Callback {
  readonly name = 'metricsLog';
  private lastLoggedStep = -1;

  constructor(private readonly run: RunDir, private readonly everySteps = 0) {}

  onBatchEnd(logs: BatchLogs): void {
    if (this.everySteps <= 0 || logs.step % this.everySteps !== 0 || logs.step === this.lastLoggedStep) return;
    this.lastLoggedStep = logs.step;
    this.run.appendMetrics({
      type: 'step', epoch: logs.epochIndex + 1, step: logs.step, loss: logs.loss, accuracy: logs.accuracy, lr: logs.lr,
      time: new Date().toISOString(),
    });
  }

  onEpochEnd(logs: EpochLogs): void {
    this.run.appendMetrics({ type: 'epoch', ...logs, time: new Date().toISOString() });
  }
}
