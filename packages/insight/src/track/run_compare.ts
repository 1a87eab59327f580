// `insight runs compare A B ...`: which config keys differ between runs, and their metrics side by side. A key that
// does not apply to a run (param_relevance.ts: a LoRA rank of a full fine-tune, train-only keys of a fine-tune run)
// is no difference; it shows as '-' beside the runs it applies to.
import { formatTable } from '../format/table';
import { paramText, type ParamValue } from './flatten';
import { meaningfulFor } from './param_relevance';
import type { RunSummary } from './run_summary';
import { formatMetric } from './runs_text';

export interface ConfigDifference {
  key: string;
  /** values[i] of runs[i]; undefined when that run's config lacks the key, null... as stored; NOT_APPLICABLE when it does not apply. */
  values: (ParamValue | undefined | typeof NOT_APPLICABLE)[];
}

/** A value of a key that does not apply to the run. */
export const NOT_APPLICABLE = Symbol('not applicable');

/**
 * Keys whose values are not all equal among the runs they apply to — or that some run of a kind lacks while another
 * run of that kind has it (an older config) — sorted; `name` is left out (the runs' table shows it).
 */
export function configDiff(runs: RunSummary[]): ConfigDifference[] {
  // The names are in the runs' table above the diff.
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].filter((key) => key !== 'name').sort();
  return keys
    .map((key) => ({ key, values: runs.map((run) => (!(key in run.params) ? undefined : meaningfulFor(run, key) ? run.params[key] : NOT_APPLICABLE)) }))
    .filter(({ key, values }) => {
      const texts = new Set(values.filter((v) => v !== undefined && v !== NOT_APPLICABLE).map((v) => paramText(v as ParamValue)));
      const kindsWithKey = new Set(runs.filter((run) => key in run.params).map((run) => run.kind));
      const unsetInAKindThatHasIt = runs.some((run) => !(key in run.params) && kindsWithKey.has(run.kind));
      return texts.size > 1 || (texts.size === 1 && unsetInAKindThatHasIt);
    });
}

/** The comparison as text: the differing config, then every metric's final (and best) value per run. */
export function formatComparison(runs: RunSummary[]): string {
  const labels = runs.map((_, i) => `${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`);
  const named = runs.some((run) => run.name !== null);
  const mixed = new Set(runs.map((run) => run.kind)).size > 1;
  const header = ['run', 'id', ...(named ? ['name'] : []), ...(mixed ? ['kind'] : []), 'status', 'epochs'];
  const lines: string[] = [formatTable(header, runs.map((run, i) => [labels[i], run.id, ...(named ? [run.name ?? '-'] : []), ...(mixed ? [run.kind] : []),
    run.status, String(run.epochs)]), header.map((h) => (h === 'epochs' ? 'r' : 'l'))), ''];
  const diff = configDiff(runs);
  lines.push(diff.length === 0 ? 'Config: identical.' : 'Config differences:');
  if (diff.length > 0) {
    lines.push(formatTable(['key', ...labels], diff.map(({ key, values }) => [key,
      ...values.map((v) => (v === undefined ? '(unset)' : v === NOT_APPLICABLE ? '-' : paramText(v)))]),
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
