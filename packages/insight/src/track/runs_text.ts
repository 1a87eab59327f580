// The runs table of `insight runs` as aligned terminal text. Metrics come first, so they stay on screen however many
// hyperparameters follow: id, name (when some run has one), kind (when train and fine-tune runs are mixed),
// status, epochs, headline metrics, the hyperparameters that differ among the runs they apply to
// (param_relevance.ts; or the --columns asked for), creation time, tags.
import { formatTable } from '../format/table';
import { paramText } from './flatten';
import { differingParams, meaningfulFor } from './param_relevance';
import { resolveKey } from './run_query';
import type { RunSummary } from './run_summary';

/** Metrics shown by default, when some listed run has them (best values). */
const HEADLINE_METRICS = ['val_accuracy', 'val_robust_accuracy', 'val_loss', 'accuracy', 'loss'];

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

/**
 * Hyperparameters to show for `runs`: those whose values differ among the runs they apply to (epochs has its own
 * column). See differingParams.
 */
export function varyingParams(runs: RunSummary[]): string[] {
  return differingParams(runs).filter((key) => key !== 'epochs');
}

/** A column: a param ('-' where it does not apply), a metric's best (`best.x` / plain name) or final (`final.x`) value, a run column. */
function cellOf(run: RunSummary, column: string, known: { params: string[]; metrics: string[] }): string {
  const key = resolveKey(column, known, '--columns');
  if (key.kind === 'param') return meaningfulFor(run, key.name) ? paramText(run.params[key.name]) : '-';
  if (key.kind === 'metric') {
    const value = key.which === 'final' ? run.final[key.name] : key.which === 'best' ? run.best[key.name] : run.best[key.name] ?? run.final[key.name];
    return formatMetric(value);
  }
  return {
    id: run.id, name: run.name ?? '-', kind: run.kind, status: run.status, created: formatCreated(run.createdAt), updated: run.updatedAt ?? '-',
    epochs: String(run.epochs), steps: String(run.steps),
  }[key.column];
}

/**
 * The table; `columns` replaces the default metric and param columns (each a key as --where takes them). A param
 * cell is '-' where the key does not apply to the run (a LoRA rank of a full fine-tune, beta1 under sgd).
 */
export function formatRunsTable(runs: RunSummary[], known: { params: string[]; metrics: string[] }, columns?: string[], sortKey?: string): string {
  let chosen = columns;
  if (chosen === undefined) {
    const metrics = HEADLINE_METRICS.filter((m) => runs.some((run) => m in run.best || m in run.final));
    const sortMetric = sortKey !== undefined && known.metrics.includes(sortKey.replace(/^(best|final)\./, '')) && !metrics.includes(sortKey) ? [sortKey] : [];
    chosen = [...sortMetric, ...metrics, ...varyingParams(runs)];
  }
  chosen.forEach((column) => resolveKey(column, known, '--columns'));
  const identity = ['id', ...(runs.some((run) => run.name !== null) && !chosen.includes('name') ? ['name'] : []),
    ...(new Set(runs.map((run) => run.kind)).size > 1 && !chosen.includes('kind') ? ['kind'] : []), 'status', 'epochs'];
  const header = [...identity, ...chosen, 'created', 'tags'];
  const rows = runs.map((run) => [
    ...identity.map((column) => (column === 'epochs' ? formatEpochs(run) : cellOf(run, column, known))),
    ...chosen.map((column) => cellOf(run, column, known)), formatCreated(run.createdAt), run.tags.join(','),
  ]);
  const numeric = (h: string, i: number) => h === 'epochs' || (i >= identity.length && i < identity.length + chosen.length && !known.params.includes(h)
    && !['id', 'name', 'kind', 'status', 'created', 'updated'].includes(h));
  return formatTable(header, rows, header.map((h, i) => (numeric(h, i) ? 'r' : 'l')));
}
