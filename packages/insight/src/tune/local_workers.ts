// `insight tune --workers N`: N local worker processes (`insight tune worker --study ... --storage ...`), each line
// of their output prefixed with its worker's label ([w1] ...). SIGINT and SIGTERM are forwarded once to every
// worker (they run in their own process groups, so a Ctrl-C reaches them once, through here); each stops its trial
// with a checkpoint. A worker that dies is reported; the trial it held is retried by the others' stale check.
// Workers never outlive this process: they start with the launcher's guard (process/launch/parent_watch.ts), so a
// `tune --workers` killed with SIGKILL leaves no orphans training on (each saves its trial's checkpoint and stops).
import { spawn, type ChildProcess } from 'node:child_process';

import { describeExit } from '../process/launch/group';
import { LAUNCHER_PID_ENV, MONITOR_MS_ENV } from '../process/launch/worker_env';
import { workerArgv } from '../process/launch/worker_program';
import { STORAGE_ENV } from './config';

export interface LocalWorkersOptions {
  count: number;
  study: string;
  /** The storage URL every worker opens (a sqlite: path absolute, so the workers' working directory does not matter). */
  storage: string;
  heartbeatSeconds: number;
  staleSeconds: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface WorkerExit {
  label: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The first house error code the worker printed on stderr ('Error INSIGHT_E_DATA: ...'), if any. */
  errorCode: string | null;
}

export interface LocalWorkersResult {
  exits: WorkerExit[];
  /** The signal forwarded to the workers, if one arrived. */
  signal: NodeJS.Signals | null;
}

/** Copies `stream` to `to` line by line, each line prefixed; `onLine` sees each line as the worker wrote it. */
function prefixLines(stream: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string, onLine: (line: string) => void = () => {}): void {
  let pending = '';
  stream.setEncoding('utf8');
  const write = (line: string) => {
    onLine(line);
    to.write(`${prefix}${line}\n`);
  };
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  stream.on('end', () => {
    if (pending !== '') write(pending);
  });
}

/** 'INSIGHT_E_DATA' from a line 'Error INSIGHT_E_DATA: <message>' (how `insight` reports a house error), else null. */
export function errorCodeOf(line: string): string | null {
  return /^Error (INSIGHT_E_[A-Z_]+): /.exec(line)?.[1] ?? null;
}


/** Starts the workers and resolves when every one has exited. */
export async function runLocalWorkers(options: LocalWorkersOptions): Promise<LocalWorkersResult> {
  // The storage goes by environment, not argv: a PostgreSQL URL's password stays out of `ps`.
  const argv = workerArgv(['tune', 'worker', '--study', options.study,
    '--heartbeat-seconds', String(options.heartbeatSeconds), '--stale-seconds', String(options.staleSeconds)]);
  const result: LocalWorkersResult = { exits: [], signal: null };
  const children: ChildProcess[] = [];
  const forward = (signal: NodeJS.Signals) => {
    result.signal ??= signal;
    options.err.write(`${signal}: asking the ${options.count} workers to stop after saving their trials' checkpoints.\n`);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.on(s, forward);
  try {
    await Promise.all(Array.from({ length: options.count }, (_, i) => new Promise<void>((resolve) => {
      const label = `w${i + 1}`;
      // The IPC channel is the guard's first sign of this process's death; the pid check backs it up every second.
      const child = spawn(process.execPath, argv, {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true,
        env: { ...process.env, [STORAGE_ENV]: options.storage, [LAUNCHER_PID_ENV]: String(process.pid), [MONITOR_MS_ENV]: '1000' },
      });
      child.channel?.unref();
      children.push(child);
      if (child.pid !== undefined) options.out.write(`Worker ${label}: pid ${child.pid}\n`);
      let errorCode: string | null = null;
      prefixLines(child.stdout!, options.out, `[${label}] `);
      prefixLines(child.stderr!, options.err, `[${label}] `, (line) => {
        errorCode ??= errorCodeOf(line);
      });
      let ended = false;
      const done = (exit: WorkerExit) => {
        if (ended) return; // 'error' and 'close' may both come
        ended = true;
        result.exits.push(exit);
        if (exit.code !== 0 && result.signal === null) {
          options.err.write(`Worker ${label} (pid ${exit.pid}) died (${describeExit(exit)}): a trial it held is marked failed and retried ` +
            `by the other workers once its heartbeat is ${options.staleSeconds} s old.\n`);
        }
        resolve();
      };
      child.on('error', (error) => {
        options.err.write(`Worker ${label} could not start: ${error.message}\n`);
        done({ label, pid: child.pid ?? 0, code: 1, signal: null, errorCode: null });
      });
      child.on('close', (code, signal) => done({ label, pid: child.pid ?? 0, code, signal, errorCode }));
    })));
  } finally {
    for (const s of signals) process.off(s, forward);
  }
  return result;
}
