// Progress for logs and pipes (no terminal): one plain line per epoch, and one every `everySteps` optimizer
// updates when asked:
//   epoch 3/10 - 704/704 batches - 0:25 - loss 1.2345 - accuracy 0.5600 - val_loss ... - lr 0.001 - 1450 img/s
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback, TrainingContext } from './callback';
import { etaSeconds, formatDuration, formatMetrics } from './format';

export class ProgressLog implements Callback {
  readonly name = 'progressLog';
  private lastLoggedStep = -1;

  /** everySteps: also log every that many optimizer updates (0 = epochs only). */
  constructor(private readonly stream: NodeJS.WritableStream, private readonly everySteps = 0) {}

  onBatchEnd(logs: BatchLogs, ctx: TrainingContext): void {
    if (this.everySteps <= 0 || logs.step % this.everySteps !== 0 || logs.step === this.lastLoggedStep) return;
    this.lastLoggedStep = logs.step;
    this.stream.write(`epoch ${logs.epochIndex + 1}/${ctx.epochs} - batch ${logs.batch}/${logs.batchesPerEpoch} - ` +
      `step ${logs.step} - ETA ${formatDuration(etaSeconds(logs))} - ${formatMetrics(logs)} - lr ${logs.lr.toPrecision(4)} - ` +
      `${Math.round(logs.imagesPerSecond)} img/s\n`);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    this.stream.write(`epoch ${logs.epoch}/${ctx.epochs} - ${ctx.batchesPerEpoch}/${ctx.batchesPerEpoch} batches - ` +
      `${formatDuration(logs.seconds)} - ${formatMetrics(logs)} - lr ${logs.lr.toPrecision(4)} - ` +
      `${Math.round(logs.imagesPerSecond)} img/s\n`);
  }

  onNote(message: string): void {
    this.stream.write(`${message}\n`);
  }
}
