// A supervisor of N worker processes (node:cluster, so workers may share a listening port): it starts them, tells
// when all are ready, restarts one that exits (same rank) unless they crash too often, and stops them gracefully
// (SIGTERM, then SIGKILL after an optional grace period) on stop() or on this process's SIGTERM/SIGINT.
// What workers do and say to each other is the caller's: serve layers metrics aggregation and admin broadcast on
// top (serve/lifecycle/cluster.ts); a training launcher gives each worker its rank through `env` and fails fast
// with `restart: false`.
import cluster, { type Worker } from 'node:cluster';
import * as os from 'node:os';

import { ruleError } from '../errors';
import { isReadyMessage } from './worker_ready';

export interface SupervisorLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SupervisorOptions {
  workers: number;
  log: SupervisorLogger;
  /** The worker program and its arguments (default: this program again; cluster.isWorker tells them apart). */
  exec?: string;
  args?: string[];
  /** Extra environment of the worker of rank `rank` (0 .. workers-1), e.g. { RANK: '0' }. A restarted worker keeps its rank. */
  env?: (rank: number) => Record<string, string>;
  /** A worker is ready once it calls signalReady() ('message', the default) or once its server listens ('listening'). */
  readyWhen?: 'message' | 'listening';
  /**
   * true (default): a worker that exits while the supervisor runs is restarted (a server's workers).
   * false: a worker that exits with code 0 is done; one that fails stops all, and its code is the status (a launcher).
   */
  restart?: boolean;
  /** With restart: give up (status 1) after this many exits within crashWindowMs (default 5 in 60 s). */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** With restart: wait this long before starting the replacement (default 1000 ms). */
  restartDelayMs?: number;
  /** Workers still alive this long after SIGTERM are killed with SIGKILL (default null: wait for them). */
  killAfterMs?: number | null;
  /** Stop on this process's first SIGTERM or SIGINT (default true). */
  stopOnSignal?: boolean;
  /** Every message from a worker other than readiness. */
  onMessage?: (worker: Worker, message: unknown) => void;
  /** A worker exited (called before any restart), e.g. to settle requests that wait for it. */
  onExit?: (worker: Worker) => void;
}

export class Supervisor {
  /** Resolves true once every rank is ready at the same time, false if the supervisor stops first. */
  readonly ready: Promise<boolean>;
  /** Resolves with the exit status once every worker has exited: 0, 1 after too many crashes, or a failed worker's code. */
  readonly done: Promise<number>;
  private readonly ranks = new Map<number, number>();
  private readonly readyRanks = new Set<number>();
  private readonly crashes: number[] = [];
  private stopping = false;
  private status = 0;
  private killTimer: NodeJS.Timeout | undefined;
  private resolveReady!: (ready: boolean) => void;
  private resolveDone!: (status: number) => void;
  private readonly detach: () => void;

  private constructor(private readonly options: SupervisorOptions) {
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    const onMessage = (worker: Worker, message: unknown) => {
      if (isReadyMessage(message)) {
        if ((options.readyWhen ?? 'message') === 'message') this.markReady(worker);
      } else {
        options.onMessage?.(worker, message);
      }
    };
    const onListening = (worker: Worker) => {
      if (options.readyWhen === 'listening') this.markReady(worker);
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null) => this.exited(worker, code, signal);
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) return;
      options.log.info({ signal, workers: options.workers }, 'stopping workers');
      void this.stop();
    };
    cluster.on('message', onMessage);
    cluster.on('listening', onListening);
    cluster.on('exit', onExit);
    if (options.stopOnSignal ?? true) {
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    this.detach = () => {
      cluster.off('message', onMessage);
      cluster.off('listening', onListening);
      cluster.off('exit', onExit);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  /**
   * Starts `options.workers` workers and returns at once; await `ready` and `done`.
   * Example: `const s = Supervisor.start({ workers: 4, log, exec: 'worker.js', env: (rank) => ({ RANK: String(rank) }) });
   * await s.ready; process.exitCode = await s.done;`
   */
  static start(options: SupervisorOptions): Supervisor {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw ruleError('INSIGHT_E_CONFIG', 'A supervisor needs a whole number of workers, at least 1.', { workers: options.workers },
        'Pass workers: 1 or more.');
    }
    if (!cluster.isPrimary) {
      throw new Error('A supervisor runs in the primary process only. Received: cluster.isPrimary=false. Start workers from the primary.');
    }
    if (options.exec !== undefined) cluster.setupPrimary({ exec: options.exec, args: options.args ?? [] });
    const supervisor = new Supervisor(options);
    options.log.info({ workers: options.workers, cores: os.availableParallelism() }, 'starting workers');
    for (let rank = 0; rank < options.workers; rank++) supervisor.fork(rank);
    return supervisor;
  }

  /** The connected workers. */
  workers(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && this.ranks.has(w.id) && w.isConnected());
  }

  /** The rank (0 .. workers-1) of one of this supervisor's workers. */
  rankOf(worker: Worker): number | undefined {
    return this.ranks.get(worker.id);
  }

  /** Sends `message` to `worker` if it is still connected (a worker may exit at any time). */
  send(worker: Worker, message: unknown): void {
    if (worker.isConnected()) worker.send(message as object);
  }

  /** Stops every worker (SIGTERM, then SIGKILL after killAfterMs) and resolves with the status. */
  stop(): Promise<number> {
    if (!this.stopping) {
      this.stopping = true;
      this.resolveReady(false);
      const alive = [...this.ranks.keys()].map((id) => cluster.workers?.[id]).filter((w): w is Worker => w !== undefined);
      for (const worker of alive) worker.process.kill('SIGTERM');
      const killAfter = this.options.killAfterMs ?? null;
      if (killAfter !== null) {
        this.killTimer = setTimeout(() => {
          for (const id of this.ranks.keys()) cluster.workers?.[id]?.process.kill('SIGKILL');
        }, killAfter);
      }
      this.finishIfEmpty();
    }
    return this.done;
  }

  private fork(rank: number): void {
    const worker = cluster.fork(this.options.env?.(rank) ?? {});
    this.ranks.set(worker.id, rank);
  }

  private markReady(worker: Worker): void {
    const rank = this.ranks.get(worker.id);
    if (rank === undefined || this.stopping) return;
    this.readyRanks.add(rank);
    if (this.readyRanks.size === this.options.workers) {
      this.options.log.info({ workers: this.options.workers }, 'workers ready');
      this.resolveReady(true);
    }
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const rank = this.ranks.get(worker.id);
    if (rank === undefined) return; // not ours
    this.ranks.delete(worker.id);
    this.readyRanks.delete(rank);
    this.options.onExit?.(worker);
    if (this.stopping) {
      this.finishIfEmpty();
      return;
    }
    const { log } = this.options;
    if (!(this.options.restart ?? true)) {
      if (code === 0) {
        log.info({ worker: worker.process.pid, rank }, 'worker finished');
        this.finishIfEmpty();
        return;
      }
      log.error({ worker: worker.process.pid, rank, code, signal }, 'worker failed; stopping the others');
      this.status = code ?? 1;
      void this.stop();
      return;
    }
    const now = Date.now();
    const windowMs = this.options.crashWindowMs ?? 60_000;
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0] > windowMs) this.crashes.shift();
    log.error({ worker: worker.process.pid, code, signal, crashesInWindow: this.crashes.length, windowMs }, 'worker exited unexpectedly');
    const maxCrashes = this.options.maxCrashes ?? 5;
    if (this.crashes.length >= maxCrashes) {
      log.error({}, `workers keep crashing (${maxCrashes} in ${windowMs === 60_000 ? 'a minute' : `${windowMs / 1000} s`}); stopping`);
      this.status = 1;
      void this.stop();
      return;
    }
    setTimeout(() => {
      if (!this.stopping) this.fork(rank);
    }, this.options.restartDelayMs ?? 1000);
  }

  private finishIfEmpty(): void {
    if (this.ranks.size > 0) return;
    clearTimeout(this.killTimer);
    this.detach();
    this.resolveReady(false);
    this.stopping = true;
    this.resolveDone(this.status);
  }
}
