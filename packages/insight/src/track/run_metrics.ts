// Final and best values of a run's metrics, from its epoch records (and its report). Final is the last epoch's
// value; best is the minimum of a loss and the maximum of an accuracy-like metric (the direction also used to
// sort runs best-first). Other metrics (lr, seconds) have a final value only.
import type { MetricRecord } from './metrics_file';

/** Fields of an epoch record that are counters, not metrics. */
const NOT_METRICS = new Set(['epoch', 'step', 'type', 'time']);

/** true: higher is better; false: lower is better; null: neither (no best value). */
export function higherIsBetter(metric: string): boolean | null {
  const name = metric.toLowerCase();
  if (/loss|error|seconds/.test(name)) return false;
  if (/accuracy|f1|precision|recall|persecond|per_second/.test(name)) return true;
  return null;
}

export interface MetricSummary {
  final: Record<string, number>;
  best: Record<string, number>;
  epochs: number;
  steps: number;
}

export function summarizeMetrics(records: MetricRecord[]): MetricSummary {
  const final: Record<string, number> = {};
  const best: Record<string, number> = {};
  let epochs = 0;
  let steps = 0;
  for (const record of records) {
    if (typeof record.step === 'number') steps = Math.max(steps, record.step);
    if (record.type !== undefined && record.type !== 'epoch') continue;
    if (typeof record.epoch === 'number') epochs = Math.max(epochs, record.epoch);
    for (const [name, value] of Object.entries(record)) {
      if (NOT_METRICS.has(name) || typeof value !== 'number' || !Number.isFinite(value)) continue;
      final[name] = value;
      const direction = higherIsBetter(name);
      if (direction === null) continue;
      if (best[name] === undefined || (direction ? value > best[name] : value < best[name])) best[name] = value;
    }
  }
  return { final, best, epochs, steps };
}

/** The final report (report/metrics.json) as metrics: report_loss, report_accuracy, report_top5_accuracy, report_macro_f1. */
export function reportMetrics(report: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof report.loss === 'number') out.report_loss = report.loss;
  if (typeof report.accuracy === 'number') out.report_accuracy = report.accuracy;
  for (const [k, value] of Object.entries((report.topK ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'number' && k !== '1') out[`report_top${k}_accuracy`] = value;
  }
  const macro = report.macro as Record<string, unknown> | undefined;
  if (typeof macro?.f1 === 'number') out.report_macro_f1 = macro.f1;
  return out;
}
