// `insight tune show` and `tune list`: a study as a summary (its trials with state, value, params, epochs and run
// directory; counts by state; the best trial; parameter importance) and as text. The same summary is the JSON of
// `tune show --json` and what tune() returns.
import type { StudyStorage } from '../study/storage';
import { bestTrial, countByState } from '../study/summary';
import type { Params, StudyRecord, TrialRecord, TrialState } from '../study/types';
import { formatParams } from './worker';

export interface TrialRow {
  number: number;
  state: TrialState;
  value: number | null;
  params: Params;
  /** Epochs reported (the last intermediate step). */
  epochs: number;
  runDir: string | null;
  /** The number of the trial this one retries, or null. */
  retryOf: number | null;
  error: string | null;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The metric after each epoch. */
  intermediate: { step: number; value: number }[];
}

export interface StudySummary {
  study: StudyRecord;
  counts: Record<TrialState, number>;
  /** The best completed trial (pruned trials stopped early, so their values are not comparable), or null. */
  best: TrialRow | null;
  /** Each parameter's share of the variation of the metric over completed trials (sums to 1), largest first. */
  importance: Record<string, number>;
  trials: TrialRow[];
}

function rowOf(trial: TrialRecord, numberOf: Map<number, number>): TrialRow {
  const last = trial.intermediate[trial.intermediate.length - 1];
  return {
    number: trial.number, state: trial.state, value: trial.value, params: trial.params, epochs: last?.step ?? 0, runDir: trial.runDir,
    retryOf: trial.retryOf === null ? null : numberOf.get(trial.retryOf) ?? null, error: trial.error, workerId: trial.workerId, startedAt: trial.startedAt, finishedAt: trial.finishedAt,
    intermediate: trial.intermediate,
  };
}

/** The summary of `study` from its storage. `importance` computes the parameters' importance (tune/importance.ts). */
export async function summarizeStudy(storage: StudyStorage, study: StudyRecord,
  importance: (study: StudyRecord, trials: TrialRecord[]) => Record<string, number>): Promise<StudySummary> {
  const trials = await storage.trials(study.id);
  const counts = countByState(trials);
  const numberOf = new Map(trials.map((t) => [t.id, t.number]));
  const rows = trials.map((t) => rowOf(t, numberOf));
  const shares = Object.entries(importance(study, trials)).sort((a, b) => b[1] - a[1]);
  return { study, counts, best: bestTrial(rows, study.direction), importance: Object.fromEntries(shares), trials: rows };
}

/** A number as tables show it: 4 decimals, or 3 significant digits for tiny or huge values. */
function num(value: number): string {
  const size = Math.abs(value);
  return size !== 0 && (size < 1e-3 || size >= 1e5) ? value.toExponential(2) : value.toFixed(4);
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  // A parameter that is a whole number (a batch size, an int range, a numeric choice) is shown as one.
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e9 ? String(value) : num(value);
  return String(value);
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The `insight tune show` text. */
export function formatStudy(summary: StudySummary, storageUrl: string): string {
  const { study, counts, best, importance, trials } = summary;
  const lines: string[] = [];
  const counted = counts.completed + counts.pruned + counts.running + counts.waiting + counts.paused;
  lines.push(`Study ${study.name}: ${study.direction} ${study.metric}, sampler ${String(study.sampler.name)}, pruner ${String(study.pruner.name)}, ` +
    `${counted}/${study.maxTrials} trials (${storageUrl})`);
  lines.push(`  ${(['completed', 'pruned', 'failed', 'running', 'paused', 'waiting'] as const).map((s) => `${s} ${counts[s]}`).join(', ')}`);
  if (trials.length === 0) {
    lines.push('', `No trials yet: run \`insight tune --study ${study.name}\` (or \`insight tune worker --study ${study.name}\`) to start.`);
    return lines.join('\n');
  }
  const keys = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const header = ['#', 'state', study.metric, 'epochs', ...keys, 'run'];
  const rows = trials.map((t) => [String(t.number), t.state + (t.retryOf !== null ? ` (retry of ${t.retryOf})` : ''), t.value === null ? '-' : num(t.value), String(t.epochs),
    ...keys.map((k) => cell(t.params[k])), t.runDir ?? '-']);
  lines.push('', table(header, rows, [true, false, true, true, ...keys.map((k) => trials.some((t) => typeof t.params[k] === 'number')), false]));
  lines.push('');
  lines.push(best === null ? 'Best trial: none completed yet.'
    : `Best trial ${best.number}: ${study.metric} ${num(best.value!)} (${formatParams(best.params)})${best.runDir ? `, run ${best.runDir}` : ''}`);
  const shares = Object.entries(importance);
  if (shares.length > 0) {
    lines.push('Parameter importance:');
    const width = Math.max(...shares.map(([k]) => k.length));
    for (const [key, share] of shares) lines.push(`  ${key.padEnd(width)}  ${share.toFixed(2)}  ${'#'.repeat(Math.round(share * 20))}`);
  } else {
    lines.push('Parameter importance: needs at least two completed trials with different params.');
  }
  const failed = trials.filter((t) => t.state === 'failed' && t.error);
  if (failed.length > 0) {
    lines.push('Failed trials:');
    for (const t of failed.slice(-5)) lines.push(`  ${t.number}: ${t.error!.split('\n')[0]}`);
  }
  return lines.join('\n');
}

/** The `insight tune list` text: one line per study with its trial counts and best value. */
export function formatStudyList(summaries: StudySummary[], storageUrl: string): string {
  if (summaries.length === 0) return `No studies in ${storageUrl} yet: start one with \`insight tune --study <name> --space space.yaml\`.`;
  const rows = summaries.map(({ study, counts, best }) => [study.name, `${study.direction} ${study.metric}`, String(study.sampler.name), String(study.pruner.name),
    `${counts.completed + counts.pruned + counts.running + counts.waiting + counts.paused}/${study.maxTrials}`, String(counts.completed), String(counts.pruned), String(counts.failed),
    best ? num(best.value!) : '-', study.createdAt.replace('T', ' ').slice(0, 16)]);
  return `${table(['study', 'objective', 'sampler', 'pruner', 'trials', 'completed', 'pruned', 'failed', 'best', 'created'], rows,
    [false, false, false, false, true, true, true, true, true, false])}\n\n${summaries.length} stud${summaries.length === 1 ? 'y' : 'ies'} in ${storageUrl}`;
}
