// Progress on a terminal: one bar per epoch, redrawn in place (at most every 100 ms), ending in a summary line:
//   Epoch 3/10
//    352/704 [==============>...............] ETA 0:12 - loss 1.2345 - accuracy 0.5600 - 1450 img/s
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback, TrainingContext } from './callback';
import { etaSeconds, formatDuration, formatMetrics } from './format';

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
    this.redraw(line, true);
  }

  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const line = `${this.bar(ctx.batchesPerEpoch, ctx.batchesPerEpoch)} ${formatDuration(logs.seconds)} - ` +
      `${formatMetrics(logs)} - ${Math.round(logs.imagesPerSecond)} img/s`;
    // The summary stays on screen: written whole (a narrow terminal wraps it), not cut to the width.
    this.redraw(line, false);
    this.stream.write('\n');
    this.drawn = false;
  }

  onNote(message: string): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
    this.stream.write(`${message}\n`);
  }

  /** 30 characters wide, narrower on narrow terminals so the live line fits. */
  private get barWidth(): number {
    return Math.max(10, Math.min(30, (this.stream.columns ?? 120) - 75));
  }

  private bar(done: number, total: number): string {
    const width = this.barWidth;
    const filled = Math.floor((width * done) / total);
    const arrow = done < total ? '>' : '=';
    const body = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}${arrow}${'.'.repeat(width - filled - 1)}`;
    const digits = String(total).length;
    return `${String(done).padStart(digits)}/${total} [${body}]`;
  }

  /** Rewrites the current line; a live line is cut to the terminal width so `\r` can redraw it. */
  private redraw(line: string, live: boolean): void {
    const columns = this.stream.columns ?? 120;
    this.stream.write(`\r${live ? line.slice(0, columns - 1) : line}\x1b[K`);
    this.drawn = true;
  }
}
