// One run directory read for tracking: status and times from run.json, hyperparameters from config.json, final
// and best metrics from metrics.jsonl and report/metrics.json, tags from tags.json. Whatever is missing or
// unreadable becomes a `problems` entry instead of an exception, so one broken run never hides the others.
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** The files whose changes change a summary (the index's staleness check stats exactly these). */
export const TRACKED_FILES = ['run.json', 'config.json', 'metrics.jsonl', 'tags.json', path.join('report', 'metrics.json')];

/** True for a directory that looks like a run (has any of run.json, config.json, metrics.jsonl). */
export function isRunDir(dir: string): boolean {
  return ['run.json', 'config.json', 'metrics.jsonl'].some((name) => fs.existsSync(path.join(dir, name)));
}

/** `mtime:size` of every tracked file ('-' when absent): equal fingerprints, equal summaries. */
export function runFingerprint(dir: string): string {
  return TRACKED_FILES.map((name) => {
    try {
      const stat = fs.statSync(path.join(dir, name));
      return `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return '-';
    }
  }).join('|');
}

/** `dir/name` parsed as a JSON object; a problem (and null) when unreadable, or when missing and `required`. */
function readJson(dir: string, name: string, problems: string[], required: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, name), 'utf8');
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
  const info = readJson(dir, 'run.json', problems, true);
  const config = readJson(dir, 'config.json', problems, true) ?? {};
  const status = info && ['running', 'completed', 'failed'].includes(info.status as string) ? info.status as TrackedStatus : 'unknown';
  const done = status !== 'running';
  const metricsFile = path.join(dir, 'metrics.jsonl');
  if (status === 'completed' && !fs.existsSync(metricsFile)) problems.push('metrics.jsonl is missing');
  const chunk = readMetricsChunk(metricsFile, undefined, done);
  problems.push(...chunk.warnings);
  const metrics = summarizeMetrics(chunk.records);
  const report = readJson(dir, 'report/metrics.json', problems, false);
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
