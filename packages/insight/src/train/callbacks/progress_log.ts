// Progress for logs and pipes (no terminal): one plain line per epoch; one every `everySteps` optimizer updates
// when asked; and, so a long epoch shows life, one whenever `everySeconds` have passed without a line:
//   epoch 3/10 - batch 352/704 - step 1760 - ETA 0:12 - loss 1.2345 - accuracy 0.5600 - lr 0.001000 - 1450 img/s
//   epoch 3/10 - 704/704 batches - 0:25 - loss 1.2345 - accuracy 0.5600 - val_loss ... - lr 0.001 - 1450 img/s
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback, TrainingContext } from './callback';
import { etaSeconds, formatDuration, formatMetrics } from './format';

export interface ProgressLogOptions {
  /** Also log every that many optimizer updates (0 = not by steps). */
  everySteps?: number;
  /** Also log at the first batch after this many seconds without a line (0 = not by time). Default 30. */
  everySeconds?: number;
  /** Milliseconds of a monotonic clock (tests pass their own). */
  now?: () => number;
}

export class ProgressLog implements Callback {
  readonly name = 'progressLog';
  private lastLoggedStep = -1;
  private lastLine: number;
  private readonly everySteps: number;
  private readonly everyMs: number;
  private readonly now: () => number;

  constructor(private readonly stream: NodeJS.WritableStream, options: ProgressLogOptions = {}) {
    this.everySteps = options.everySteps ?? 0;
    this.everyMs = (options.everySeconds ?? 30) * 1000;
    this.now = options.now ?? (() => performance.now());
    this.lastLine = this.now();
  }

  onTrainBegin(): void {
    this.lastLine = this.now();
  }

  onBatchEnd(logs: BatchLogs, ctx: TrainingContext): void {
    const bySteps = this.everySteps > 0 && logs.step % this.everySteps === 0 && logs.step !== this.lastLoggedStep;
    const byTime = this.everyMs > 0 && this.now() - this.lastLine >= this.everyMs;
    if (!bySteps && !byTime) return;
    this.lastLoggedStep = logs.step;
    this.write(`epoch ${logs.epochIndex + 1}/${ctx.epochs} - batch ${logs.batch}/${logs.batchesPerEpoch} - ` +
      `step ${logs.step} - ETA ${formatDuration(etaSeconds(logs))} - ${formatMetrics(logs)} - lr ${logs.lr.toPrecision(4)} - ` +
      `${Math.round(logs.imagesPerSecond)} img/s`);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    this.write(`epoch ${logs.epoch}/${ctx.epochs} - ${ctx.batchesPerEpoch}/${ctx.batchesPerEpoch} batches - ` +
      `${formatDuration(logs.seconds)} - ${formatMetrics(logs)} - lr ${logs.lr.toPrecision(4)} - ` +
      `${Math.round(logs.imagesPerSecond)} img/s`);
  }

  onNote(message: string): void {
    this.write(message);
  }

  private write(line: string): void {
    this.stream.write(`${line}\n`);
    this.lastLine = this.now();
  }
}
