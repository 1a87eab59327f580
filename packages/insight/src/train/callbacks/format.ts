// Shared formatting of progress figures.
import type { BatchLogs, EpochLogs } from '../state';

/** 75 → '1:15', 3725 → '1:02:05'. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Seconds left in the epoch at the current pace. */
export function etaSeconds(logs: BatchLogs): number {
  return logs.batch === 0 ? 0 : (logs.seconds / logs.batch) * (logs.batchesPerEpoch - logs.batch);
}

/** 'loss 1.2345 - accuracy 0.5600 - val_loss ... - val_accuracy ... - val_robust_accuracy ...' for the metrics present. */
export function formatMetrics(logs: Pick<EpochLogs, 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy' | 'val_robust_accuracy'>): string {
  const parts = [`loss ${logs.loss.toFixed(4)}`, `accuracy ${logs.accuracy.toFixed(4)}`];
  if (logs.val_loss !== undefined) parts.push(`val_loss ${logs.val_loss.toFixed(4)}`);
  if (logs.val_accuracy !== undefined) parts.push(`val_accuracy ${logs.val_accuracy.toFixed(4)}`);
  if (logs.val_robust_accuracy !== undefined) parts.push(`val_robust_accuracy ${logs.val_robust_accuracy.toFixed(4)}`);
  return parts.join(' - ');
}
