// One run directory read for tracking: status and times from run.json, hyperparameters from config.json, final
// and best metrics from metrics.jsonl and report/metrics.json, tags from tags.json. Whatever is missing or
// unreadable becomes a `problems` entry instead of an exception, so one broken run never hides the others.
// A run.json that says 'running' while its process is gone (run/liveness.ts) is shown as 'crashed'; since that
// changes without any file changing, the fingerprint carries the liveness of running runs.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { hasCrashed } from '../run/liveness';
import { RunDir, type RunInfo } from '../run/run_dir';
import { flattenConfig, type ParamValue } from './flatten';
import { readMetricsChunk } from './metrics_file';
import { runKind, type RunKind } from './param_relevance';
import { reportMetrics, summarizeMetrics } from './run_metrics';
import { readTags } from './run_tags';

/** run.json's status, or 'crashed': 'running' in run.json, but the process is gone. */
export type TrackedStatus = 'running' | 'completed' | 'failed' | 'interrupted' | 'crashed' | 'unknown';

const WRITTEN_STATUSES: readonly string[] = ['running', 'completed', 'failed', 'interrupted'] satisfies RunInfo['status'][];

export interface RunSummary {
  id: string;
  /** The run's --name (config.json's name), or null. */
  name: string | null;
  /** train or finetune (a config with a base model). */
  kind: RunKind;
  dir: string;
  status: TrackedStatus;
  createdAt: string;
  updatedAt: string | null;
  /** run.json's error of a failed run (where an interrupted one stopped). */
  error: string | null;
  config: Record<string, unknown>;
  params: Record<string, ParamValue>;
  epochs: number;
  steps: number;
  final: Record<string, number>;
  best: Record<string, number>;
  tags: string[];
  /** Missing or unreadable files, skipped metrics lines: shown, never thrown. */
  problems: string[];
}

/**
 * `mtime:size` of every tracked file (RunDir.trackedFiles; '-' when absent), and 'crashed' for a run whose process
 * is gone: equal fingerprints, equal summaries.
 */
export function runFingerprint(dir: string): string {
  const run = RunDir.at(dir);
  const stats = run.trackedFiles.map((file) => {
    try {
      const stat = fs.statSync(file);
      return `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return '-';
    }
  }).join('|');
  return crashed(run) ? `${stats}|crashed` : stats;
}

/** True when the run's run.json says 'running' but its process is gone (an unreadable run.json: false). */
function crashed(run: RunDir): boolean {
  try {
    return hasCrashed(run.readInfo());
  } catch {
    return false;
  }
}

/** The run's `file` parsed as a JSON object; a problem (and null) when unreadable, or when missing and `required`. */
function readJson(run: RunDir, file: string, problems: string[], required: boolean): Record<string, unknown> | null {
  const name = run.relative(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    if (required) problems.push(`${name} is missing`);
    return null;
  }
  try {
    const value = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  problems.push(`${name} is not a valid JSON object`);
  return null;
}

/** `20261129-041812-a3f9` → '2026-11-29T04:18:12.000Z' (null for other names). */
function timeFromId(id: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : null;
}

export function summarizeRun(dir: string): RunSummary {
  const id = path.basename(dir);
  const problems: string[] = [];
  const run = RunDir.at(dir);
  const info = readJson(run, run.runJson, problems, true);
  const config = readJson(run, run.configJson, problems, true) ?? {};
  let status = info && WRITTEN_STATUSES.includes(info.status as string) ? info.status as TrackedStatus : 'unknown';
  let error = typeof info?.error === 'string' ? info.error : null;
  if (status === 'running' && hasCrashed(info as unknown as RunInfo)) {
    status = 'crashed';
    error = `The training process (pid ${String(info?.pid)} on ${String(info?.host)}) ended without a word; last heartbeat ${String(info?.heartbeatAt)}.`;
  }
  const done = status !== 'running';
  if (status === 'completed' && !fs.existsSync(run.metricsJsonl)) problems.push(`${run.relative(run.metricsJsonl)} is missing`);
  const chunk = readMetricsChunk(run.metricsJsonl, undefined, done);
  problems.push(...chunk.warnings);
  const metrics = summarizeMetrics(chunk.records);
  const report = readJson(run, run.reportMetricsJson, problems, false);
  if (report) Object.assign(metrics.final, reportMetrics(report));
  let createdAt = typeof info?.createdAt === 'string' ? info.createdAt : timeFromId(id);
  if (createdAt === null) {
    try {
      createdAt = fs.statSync(dir).mtime.toISOString();
    } catch {
      createdAt = new Date(0).toISOString();
    }
  }
  let tags: string[] = [];
  try {
    tags = readTags(dir);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return {
    id, name: typeof config.name === 'string' && config.name !== '' ? config.name : null, kind: runKind(config), dir, status, createdAt,
    updatedAt: typeof info?.updatedAt === 'string' ? info.updatedAt : null,
    error,
    config, params: flattenConfig(config), epochs: metrics.epochs, steps: metrics.steps,
    final: metrics.final, best: metrics.best, tags, problems,
  };
}
