// One run directory read for tracking: status and times from run.json, hyperparameters from config.json, final
// and best metrics from metrics.jsonl and report/metrics.json, tags from tags.json. Whatever is missing or
// unreadable becomes a `problems` entry instead of an exception, so one broken run never hides the others.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { RunDir } from '../run/run_dir';
import { flattenConfig, type ParamValue } from './flatten';
import { readMetricsChunk } from './metrics_file';
import { reportMetrics, summarizeMetrics } from './run_metrics';
import { readTags } from './run_tags';

export type TrackedStatus = 'running' | 'completed' | 'failed' | 'unknown';

export interface RunSummary {
  id: string;
  dir: string;
  status: TrackedStatus;
  createdAt: string;
  updatedAt: string | null;
  /** run.json's error of a failed run. */
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

/** `mtime:size` of every tracked file (RunDir.trackedFiles; '-' when absent): equal fingerprints, equal summaries. */
export function runFingerprint(dir: string): string {
  return RunDir.at(dir).trackedFiles.map((file) => {
    try {
      const stat = fs.statSync(file);
      return `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return '-';
    }
  }).join('|');
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
  const status = info && ['running', 'completed', 'failed'].includes(info.status as string) ? info.status as TrackedStatus : 'unknown';
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
    id, dir, status, createdAt,
    updatedAt: typeof info?.updatedAt === 'string' ? info.updatedAt : null,
    error: typeof info?.error === 'string' ? info.error : null,
    config, params: flattenConfig(config), epochs: metrics.epochs, steps: metrics.steps,
    final: metrics.final, best: metrics.best, tags, problems,
  };
}
