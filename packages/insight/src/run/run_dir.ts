// The run directory, `<runs dir>/<run-id>/`:
//   run.json        { id, status: 'running' | 'completed' | 'failed', ... } — 'completed' is written last
//   config.json     the validated config the run was started with
//   metrics.jsonl   one JSON object per logged epoch (and per N steps when asked)
//   checkpoints/    last/ and best/, each a complete checkpoint (see checkpoint.ts)
//   model/          the final model, written only when training has finished
//   report/         evaluation of the final model: metrics.json, confusion.png, per_class.txt, confusion.txt
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import { writeFileAtomic } from './atomic';

export type RunStatus = 'running' | 'completed' | 'failed';

/** Contents of run.json. */
export interface RunInfo {
  id: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** Set when status is 'failed'. */
  error?: string;
  /** Free-form facts recorded at completion (final metrics, backend, durations). */
  summary?: Record<string, unknown>;
}

/** `20261129-041812-a3f9`: UTC start time, then 4 random hex digits so parallel runs never collide. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export class RunDir {
  private constructor(readonly dir: string) {}

  get id(): string { return path.basename(this.dir); }
  get runJson(): string { return path.join(this.dir, 'run.json'); }
  get configJson(): string { return path.join(this.dir, 'config.json'); }
  get metricsJsonl(): string { return path.join(this.dir, 'metrics.jsonl'); }
  get checkpointsDir(): string { return path.join(this.dir, 'checkpoints'); }
  get lastCheckpoint(): string { return path.join(this.checkpointsDir, 'last'); }
  get bestCheckpoint(): string { return path.join(this.checkpointsDir, 'best'); }
  get modelDir(): string { return path.join(this.dir, 'model'); }
  get reportDir(): string { return path.join(this.dir, 'report'); }

  /** Creates `<runsDir>/<new id>/` with run.json (status 'running') and config.json. */
  static create(runsDir: string, config: unknown): RunDir {
    fs.mkdirSync(runsDir, { recursive: true });
    let dir: string;
    do dir = path.join(runsDir, newRunId()); while (fs.existsSync(dir));
    fs.mkdirSync(dir);
    const run = new RunDir(dir);
    const now = new Date().toISOString();
    writeFileAtomic(run.configJson, `${JSON.stringify(config, null, 2)}\n`);
    run.writeInfo({ id: run.id, status: 'running', createdAt: now, updatedAt: now });
    return run;
  }

  /** Opens an existing run directory (for resume or inspection). */
  static open(dir: string): RunDir {
    const run = new RunDir(dir);
    if (!fs.existsSync(run.runJson) || !fs.existsSync(run.configJson)) {
      throw ruleError('INSIGHT_E_RESUME', 'A run directory must contain run.json and config.json.',
        { run: dir, exists: fs.existsSync(dir) }, 'Pass a directory created by `insight train`, e.g. runs/<run-id>.');
    }
    return run;
  }

  readInfo(): RunInfo {
    return JSON.parse(fs.readFileSync(this.runJson, 'utf8')) as RunInfo;
  }

  readConfig(): unknown {
    return JSON.parse(fs.readFileSync(this.configJson, 'utf8'));
  }

  /** Updates run.json atomically; only the trainer's very last act sets status 'completed'. */
  setStatus(status: RunStatus, extra: Partial<Pick<RunInfo, 'error' | 'summary'>> = {}): void {
    const info = this.readInfo();
    this.writeInfo({ ...info, ...extra, status, updatedAt: new Date().toISOString() });
  }

  private writeInfo(info: RunInfo): void {
    writeFileAtomic(this.runJson, `${JSON.stringify(info, null, 2)}\n`);
  }

  /** Appends one record to metrics.jsonl (one line, flushed). */
  appendMetrics(record: Record<string, unknown>): void {
    const fd = fs.openSync(this.metricsJsonl, 'a');
    try {
      fs.writeSync(fd, `${JSON.stringify(record)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** All complete records of metrics.jsonl (a torn last line from a killed process is skipped). */
  readMetrics(): Record<string, unknown>[] {
    if (!fs.existsSync(this.metricsJsonl)) return [];
    const records: Record<string, unknown>[] = [];
    for (const line of fs.readFileSync(this.metricsJsonl, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut short by a kill; everything after the checkpoint is dropped on resume anyway.
      }
    }
    return records;
  }

  /**
   * Keeps only the records logged up to and including optimizer step `step` (rewritten atomically), so a
   * resumed run does not log the epochs a killed process had started twice.
   */
  truncateMetrics(step: number): void {
    const kept = this.readMetrics().filter((record) => typeof record.step === 'number' && record.step <= step);
    writeFileAtomic(this.metricsJsonl, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  }
}
