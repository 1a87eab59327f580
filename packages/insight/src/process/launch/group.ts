// One attempt of a node's local worker group: nproc-per-node processes started together (child_process, not
// node:cluster — a worker may be any insight command, `serve` with its own cluster included), their output
// relayed, and all of them stopped as soon as one fails, as torchrun's agent does. Each worker runs in its own
// process group (a terminal's Ctrl-C reaches the launcher only, which forwards it once) with an IPC channel whose
// closing tells it the launcher died (parent_watch.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';

import type { LaunchSettings } from './config';
import { relayLines, type LineRelay } from './output';
import { workerEnv } from './worker_env';
import { workerArgv } from './worker_program';

export interface WorkerExit {
  /** Global rank and local rank. */
  rank: number;
  localRank: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The worker's last line on stderr, e.g. 'Error INSIGHT_E_DATA: ...'. */
  lastLine: string | null;
}

export interface GroupOutcome {
  /** Every worker's exit, in the order they ended. */
  exits: WorkerExit[];
  /** The first worker that failed on its own (not one the group stopped), or null. */
  failed: WorkerExit | null;
}

export interface GroupOptions {
  settings: LaunchSettings;
  /** TORCHELASTIC_RESTART_COUNT of this attempt. */
  restartCount: number;
  /** The insight command and its arguments, e.g. ['train', '--epochs', '3']. */
  args: readonly string[];
  /** A node script to run instead of the insight command (tests, embedding). */
  script?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Workers still alive this long after SIGTERM/SIGINT get SIGKILL. */
  killAfterMs: number;
  env: NodeJS.ProcessEnv;
}

/** 128 + the signal's number (137 for SIGKILL), the shell's status of a process killed by `signal`. */
export function statusOf(exit: Pick<WorkerExit, 'code' | 'signal'>): number {
  if (exit.signal !== null) return 128 + (os.constants.signals[exit.signal] ?? 0);
  return exit.code ?? 1;
}

/** 'exit status 3' / 'signal SIGKILL'. */
export function describeExit(exit: Pick<WorkerExit, 'code' | 'signal'>): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit status ${exit.code}`;
}

/** Sends `signal` to the process group led by `pid` (the worker and anything it started), ignoring a group already gone. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in it
  }
}

export class WorkerGroup {
  /** Resolves once every worker has exited and its output is relayed. */
  readonly done: Promise<GroupOutcome>;
  private readonly children: ChildProcess[] = [];
  private readonly outcome: GroupOutcome = { exits: [], failed: null };
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: GroupOptions) {
    const { settings } = options;
    this.done = Promise.all(Array.from({ length: settings.nprocPerNode }, (_, localRank) => this.startWorker(localRank)))
      .then(() => {
        clearTimeout(this.killTimer);
        return this.outcome;
      });
  }

  /** Starts the group's workers; await `done`. */
  static start(options: GroupOptions): WorkerGroup {
    return new WorkerGroup(options);
  }

  /** Asks every live worker to stop with `signal` (SIGKILL after killAfterMs); called again, kills them at once. */
  stop(signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): void {
    if (this.stopping) {
      this.kill();
      return;
    }
    this.stopping = true;
    for (const child of this.live()) child.kill(signal);
    this.killTimer = setTimeout(() => this.kill(), this.options.killAfterMs);
    this.killTimer.unref();
  }

  /** SIGKILL to every live worker's process group, at once (synchronous: safe in an 'exit' handler). */
  kill(): void {
    this.stopping = true;
    for (const child of this.live()) killGroup(child.pid, 'SIGKILL');
  }

  private live(): ChildProcess[] {
    return this.children.filter((child) => child.exitCode === null && child.signalCode === null);
  }

  private startWorker(localRank: number): Promise<void> {
    const { settings, out, err } = this.options;
    const rank = settings.nodeRank * settings.nprocPerNode + localRank;
    const prefix = rank === 0 ? '' : `[rank ${rank}] `;
    // Rank 0's stdout goes straight to a terminal (its progress bar stays a bar); other ranks' is prefixed.
    const inheritStdout = rank === 0 && out === process.stdout;
    const child = spawn(process.execPath, workerArgv(this.options.args, this.options.script), {
      stdio: ['ignore', inheritStdout ? 'inherit' : 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: { ...this.options.env, ...workerEnv(settings, localRank, this.options.restartCount, this.options.env) },
    });
    this.children.push(child);
    const relays: LineRelay[] = [relayLines(child.stderr!, err, prefix)]; // first: its last line says why it failed
    if (child.stdout) relays.push(relayLines(child.stdout, out, prefix));
    return new Promise<void>((resolve) => {
      let spawnError: string | null = null;
      let exited = false;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (exited) return;
        exited = true;
        killGroup(child.pid, 'SIGKILL'); // what the worker started and left behind
        if ((code !== 0 || signal !== null) && !this.stopping) {
          this.outcome.failed ??= { rank, localRank, pid: child.pid ?? 0, code, signal, lastLine: null };
          this.stop('SIGTERM');
        }
        void Promise.all(relays.map((relay) => relay.ended)).then(() => {
          const lastLine = spawnError ?? relays[0].lastLine();
          this.ended({ rank, localRank, pid: child.pid ?? 0, code, signal, lastLine });
          resolve();
        });
      };
      child.on('exit', onExit);
      child.on('error', (error) => {
        spawnError = `could not start: ${error.message}`;
        if (child.pid === undefined) onExit(1, null); // never started: no 'exit' follows
      });
    });
  }

  private ended(exit: WorkerExit): void {
    this.outcome.exits.push(exit);
    if (this.outcome.failed?.rank === exit.rank) this.outcome.failed = exit; // now with its last line
  }
}
