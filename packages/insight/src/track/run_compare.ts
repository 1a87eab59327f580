// `insight runs compare A B ...`: which hyperparameters differ between runs, and their metrics side by side.
import { formatTable } from '../format/table';
import { paramText, type ParamValue } from './flatten';
import type { RunSummary } from './run_summary';
import { formatMetric } from './runs_text';

export interface ConfigDifference {
  key: string;
  /** values[i] of runs[i]; undefined when that run's config lacks the key. */
  values: (ParamValue | undefined)[];
}

/** Keys whose values are not all equal (a key missing from some runs counts as a difference), sorted. */
export function configDiff(runs: RunSummary[]): ConfigDifference[] {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort();
  return keys
    .map((key) => ({ key, values: runs.map((run) => (key in run.params ? run.params[key] : undefined)) }))
    .filter(({ values }) => new Set(values.map((v) => (v === undefined ? '\u0000missing' : paramText(v)))).size > 1);
}

/** The comparison as text: the differing config, then every metric's final (and best) value per run. */
export function formatComparison(runs: RunSummary[]): string {
  const labels = runs.map((_, i) => `${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`);
  const lines: string[] = [formatTable(['run', 'id', 'status', 'epochs'], runs.map((run, i) => [labels[i], run.id, run.status, String(run.epochs)]), ['l', 'l', 'l', 'r']), ''];
  const diff = configDiff(runs);
  lines.push(diff.length === 0 ? 'Config: identical.' : 'Config differences:');
  if (diff.length > 0) {
    lines.push(formatTable(['key', ...labels], diff.map(({ key, values }) => [key, ...values.map((v) => (v === undefined ? '(unset)' : paramText(v)))]),
      ['l', ...labels.map(() => 'l' as const)]));
  }
  lines.push('');
  const metrics = [...new Set(runs.flatMap((run) => [...Object.keys(run.final), ...Object.keys(run.best)]))].sort();
  if (metrics.length === 0) {
    lines.push('Metrics: none logged yet.');
  } else {
    const header = ['metric', ...labels.flatMap((label) => [`${label} final`, `${label} best`])];
    const rows = metrics.map((name) => [name, ...runs.flatMap((run) => [formatMetric(run.final[name]), formatMetric(run.best[name])])]);
    lines.push('Metrics:', formatTable(header, rows));
  }
  return lines.join('\n');
}
