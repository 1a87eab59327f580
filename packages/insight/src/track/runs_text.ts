// The runs table of `insight runs` as aligned terminal text: id, status, creation time, epochs, the
// hyperparameters that differ between the listed runs (or the --columns asked for), headline metrics, tags.
import { formatTable } from '../format/table';
import { paramText } from './flatten';
import { resolveKey } from './run_query';
import type { RunSummary } from './run_summary';

/** Config keys that say where and how a run ran, not what it computed: never picked as varying columns. */
const NOT_HYPERPARAMETERS = new Set(['runsDir', 'progress', 'workers', 'logEverySteps', 'tensorboard', 'backend']);
/** Metrics shown by default, when some listed run has them (best values). */
const HEADLINE_METRICS = ['val_accuracy', 'val_loss', 'accuracy', 'loss'];

/** 4 decimals in [0.001, 1000), 1 decimal up to a million, exponents beyond either end; '-' when absent. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined || value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  if (size >= 1e6 || (size > 0 && size < 1e-3)) return value.toExponential(2);
  return size >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

/** Logged epochs, with the planned count when the config has it: '3/10'. */
export function formatEpochs(run: RunSummary): string {
  return typeof run.params.epochs === 'number' ? `${run.epochs}/${run.params.epochs}` : String(run.epochs);
}

/** 2026-11-29T04:18:12.000Z → '2026-11-29 04:18' (UTC). */
export function formatCreated(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

/** Hyperparameters whose values differ among `runs` (in config order of the first run that has them). */
export function varyingParams(runs: RunSummary[]): string[] {
  // epochs is shown in the epochs column (logged/planned).
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].filter((key) => !NOT_HYPERPARAMETERS.has(key) && key !== 'epochs');
  return keys.filter((key) => new Set(runs.map((run) => (key in run.params ? paramText(run.params[key]) : '\u0000'))).size > 1);
}

/** A column: a param, or a metric's best (`best.x` / plain name) or final (`final.x`) value. */
function cellOf(run: RunSummary, column: string, known: { params: string[]; metrics: string[] }): string {
  const key = resolveKey(column, known, '--columns');
  if (key.kind === 'param') return key.name in run.params ? paramText(run.params[key.name]) : '-';
  if (key.kind === 'metric') {
    const value = key.which === 'final' ? run.final[key.name] : key.which === 'best' ? run.best[key.name] : run.best[key.name] ?? run.final[key.name];
    return formatMetric(value);
  }
  const columnValue = { id: run.id, status: run.status, created: formatCreated(run.createdAt), updated: run.updatedAt ?? '-', epochs: String(run.epochs), steps: String(run.steps) }[key.column];
  return columnValue;
}

/** The table; `columns` replaces the default param and metric columns (each a key as --where takes them). */
export function formatRunsTable(runs: RunSummary[], known: { params: string[]; metrics: string[] }, columns?: string[], sortKey?: string): string {
  let chosen = columns;
  if (chosen === undefined) {
    const metrics = HEADLINE_METRICS.filter((m) => runs.some((run) => m in run.best || m in run.final));
    const sortMetric = sortKey !== undefined && known.metrics.includes(sortKey.replace(/^(best|final)\./, '')) && !metrics.includes(sortKey) ? [sortKey] : [];
    chosen = [...varyingParams(runs), ...sortMetric, ...metrics];
  }
  chosen.forEach((column) => resolveKey(column, known, '--columns'));
  const header = ['id', 'status', 'created', 'epochs', ...chosen, 'tags'];
  const rows = runs.map((run) => [run.id, run.status, formatCreated(run.createdAt), formatEpochs(run),
    ...chosen.map((column) => cellOf(run, column, known)), run.tags.join(',')]);
  return formatTable(header, rows, header.map((h, i) => (i < 3 || h === 'tags' || (i >= 4 && known.params.includes(h)) ? 'l' : 'r')));
}
