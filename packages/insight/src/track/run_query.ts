// The query language of `insight runs` (and the dashboard's API): filters `key=value`, `key!=value`, `key>n`,
// `key>=n`, `key<n`, `key<=n`, `key~text` (contains), over a run's hyperparameters (config keys, e.g. optimizer,
// lr), its metrics (val_accuracy means the best value, final.val_accuracy the last, best.x explicit) and its
// columns (id, name, kind, status, created, epochs, steps); and one sort key, best-first for metrics. Parsed here,
// turned into SQL by the index.
import { ruleError } from '../errors';

export const OPERATORS = ['!=', '>=', '<=', '=', '>', '<', '~'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  key: string;
  op: Operator;
  value: string;
}

export interface RunQuery {
  where?: Condition[];
  /** Runs must carry every one of these tags. */
  tags?: string[];
  /** Sort key (default: created, newest first). */
  sort?: string;
  /** Flip the sort's default direction. */
  reverse?: boolean;
  limit?: number;
}

/** Columns every run has. */
export const RUN_COLUMNS = ['id', 'name', 'kind', 'status', 'created', 'updated', 'epochs', 'steps'] as const;

/** Parses `optimizer=adamw`, `lr<=0.01`, `best.val_accuracy>0.7`. */
export function parseCondition(text: string): Condition {
  const match = /^\s*([A-Za-z0-9_.\-/]+?)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$/.exec(text);
  if (!match || match[3] === '') {
    throw ruleError('INSIGHT_E_QUERY', `A --where filter must be <key><operator><value> with one of ${OPERATORS.join(' ')}.`, { where: text },
      'Pass e.g. --where optimizer=adamw or --where "val_accuracy>0.7" (quote < and > in the shell).');
  }
  return { key: match[1], op: match[2] as Operator, value: match[3] };
}

/** What a query key refers to, once the index knows which params and metrics exist. */
export type ResolvedKey =
  | { kind: 'column'; column: (typeof RUN_COLUMNS)[number] }
  | { kind: 'metric'; name: string; which: 'final' | 'best' | 'either' }
  | { kind: 'param'; name: string };

/**
 * Resolves `key` against the known params and metrics: a column name, `final.<metric>`, `best.<metric>`, a metric
 * name, or a param name (params win over metrics of the same name). Unknown keys throw INSIGHT_E_QUERY with the
 * valid ones.
 */
export function resolveKey(key: string, known: { params: string[]; metrics: string[] }, flag = '--where'): ResolvedKey {
  if ((RUN_COLUMNS as readonly string[]).includes(key)) return { kind: 'column', column: key as (typeof RUN_COLUMNS)[number] };
  const prefixed = /^(final|best)\.(.+)$/.exec(key);
  if (prefixed && known.metrics.includes(prefixed[2])) return { kind: 'metric', name: prefixed[2], which: prefixed[1] as 'final' | 'best' };
  if (known.params.includes(key)) return { kind: 'param', name: key };
  if (known.metrics.includes(key)) return { kind: 'metric', name: key, which: 'either' };
  const valid = [...new Set([...RUN_COLUMNS, ...known.metrics, ...known.params])];
  throw ruleError('INSIGHT_E_QUERY', `A ${flag} key must be a run column, a metric or a hyperparameter of some run.`, { [flag.replace(/^--/, '')]: key },
    `Valid keys here: ${valid.join(', ')}${known.metrics.length ? ` (metrics also as final.<name> / best.<name>)` : ''}.`);
}

/** Whether sorting by `key` puts larger values first by default: newest runs and better metrics first. */
export function sortsDescending(resolved: ResolvedKey, higherIsBetter: (metric: string) => boolean | null): boolean {
  if (resolved.kind === 'column') return resolved.column === 'created' || resolved.column === 'updated';
  if (resolved.kind === 'metric') return higherIsBetter(resolved.name) === true;
  return false;
}
