// The human-readable parts of a report: the per-class table and the confusion matrix as aligned text.
import { formatTable } from '../format/table';
import type { EvaluationMetrics } from './metrics';

/** class | precision | recall | f1 | support, then the macro average and the overall figures (with ECE and MCE). */
export function formatPerClassTable(m: EvaluationMetrics): string {
  const rows = m.perClass.map((c) => [c.name, c.precision.toFixed(4), c.recall.toFixed(4), c.f1.toFixed(4), String(c.support)]);
  rows.push(['macro avg', m.macro.precision.toFixed(4), m.macro.recall.toFixed(4), m.macro.f1.toFixed(4), String(m.count)]);
  const topK = Object.entries(m.topK).map(([k, v]) => `top-${k} accuracy ${v.toFixed(4)}`).join(' - ');
  return `${formatTable(['class', 'precision', 'recall', 'f1', 'support'], rows)}\n\n` +
    `examples ${m.count} - loss ${m.loss.toFixed(4)} - accuracy ${m.accuracy.toFixed(4)}${topK ? ` - ${topK}` : ''}` +
    (m.calibration ? ` - ECE ${m.calibration.ece.toFixed(4)} - MCE ${m.calibration.mce.toFixed(4)}` : '');
}

/** Rows = true class, columns = predicted class, counts; column headers are class indices (see the legend). */
export function formatConfusionTable(m: EvaluationMetrics): string {
  const header = ['true \\ predicted', ...m.classNames.map((_, c) => String(c))];
  const rows = m.confusion.map((row, t) => [`${t} ${m.classNames[t]}`, ...row.map(String)]);
  return formatTable(header, rows);
}
