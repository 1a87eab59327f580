// Progress on a terminal: one bar per epoch, redrawn in place (at most every 100 ms), ending in a summary line:
//   Epoch 3/10
//    352/704 [==============>...............] ETA 0:12 - loss 1.2345 - accuracy 0.5600 - 1450 img/s
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback, TrainingContext } from './callback';
import { etaSeconds, formatDuration, formatMetrics } from './format';

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

export class ProgressBar implements Callback {
  readonly name = 'progressBar';
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  onEpochBegin(epochIndex: number, ctx: TrainingContext): void {
    this.stream.write(`Epoch ${epochIndex + 1}/${ctx.epochs}\n`);
    this.lastDraw = 0;
  }

  onBatchEnd(logs: BatchLogs): void {
    const now = Date.now();
    if (logs.batch < logs.batchesPerEpoch && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const line = `${this.bar(logs.batch, logs.batchesPerEpoch)} ETA ${formatDuration(etaSeconds(logs))} - ` +
      `${formatMetrics(logs)} - ${Math.round(logs.imagesPerSecond)} img/s`;
    this.redraw(line);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const line = `${this.bar(ctx.batchesPerEpoch, ctx.batchesPerEpoch)} ${formatDuration(logs.seconds)} - ` +
      `${formatMetrics(logs)} - ${Math.round(logs.imagesPerSecond)} img/s`;
    this.redraw(line);
    this.stream.write('\n');
    this.drawn = false;
  }

  onNote(message: string): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
    this.stream.write(`${message}\n`);
  }

  private bar(done: number, total: number): string {
    const filled = Math.floor((BAR_WIDTH * done) / total);
    const arrow = done < total ? '>' : '=';
    const body = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(filled)}${arrow}${'.'.repeat(BAR_WIDTH - filled - 1)}`;
    const width = String(total).length;
    return `${String(done).padStart(width)}/${total} [${body}]`;
  }

  private redraw(line: string): void {
    const columns = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }
}
