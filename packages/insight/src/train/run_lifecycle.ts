// The life of a training process as its run directory shows it.
//   - Heartbeat (W&B-style): run.json records the process (pid, host) and a heartbeat time renewed every
//     HEARTBEAT_SECONDS, so a tracker tells a run whose process died without a word (SIGKILL, out of memory) —
//     'crashed' — from a live one (run/liveness.ts).
//   - Signals: the first SIGINT (Ctrl-C) or SIGTERM (`kill`, a scheduler's stop) asks training to stop at the next
//     optimizer update: checkpoints/last is written there (state.inEpoch says how far into the epoch) and training
//     ends with INSIGHT_E_INTERRUPTED, whose message says how to resume; the session marks the run 'interrupted'.
//     A second signal stops at once (exit 130 / 143): the run keeps its last complete checkpoint.
// The training loop must give the event loop a turn now and then for signals and timers to be heard; the
// lifecycle's callback does (at most every YIELD_MS), also when batches are rendered inline (workers: 0).
import * as os from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { ruleError, type InsightError } from '../errors';
import { hasCheckpoint } from '../run/checkpoint';
import { HEARTBEAT_SECONDS } from '../run/liveness';
import type { RunDir } from '../run/run_dir';
import type { Callback } from './callbacks/callback';
import { ModelCheckpoint } from './callbacks/model_checkpoint';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Exit status of a process stopped at once by the signal (128 + its number, as a shell reports it). */
const EXIT_STATUS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };
/** The event loop gets a turn at least this often while training (signals, heartbeat). */
const YIELD_MS = 100;

export interface LifecycleOptions {
  /** Prints a line for the user (the session routes it through the progress output). */
  notify: (message: string) => void;
  /** How to continue the run: the fix of the interruption's message. */
  resumeFix: string;
  /** Handle SIGINT and SIGTERM (default true). */
  signals?: boolean;
  /** Heartbeat interval (default HEARTBEAT_SECONDS). */
  heartbeatSeconds?: number;
}

export class RunLifecycle {
  private requested: NodeJS.Signals | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastTurn = 0;
  /** One listener per signal, each knowing its signal (process.emit('SIGINT') passes none). */
  private readonly listeners = SIGNALS.map((signal) => [signal, () => this.signal(signal)] as const);

  constructor(readonly run: RunDir, private readonly options: LifecycleOptions) {}

  /** Records this process in run.json (dropping an earlier interruption's error), starts the heartbeat and listens for signals. */
  start(): void {
    this.run.heartbeat({ pid: process.pid, host: os.hostname(), error: undefined });
    this.timer = setInterval(() => this.beat(), (this.options.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000);
    this.timer.unref();
    if (this.options.signals ?? true) for (const [signal, listener] of this.listeners) process.on(signal, listener);
  }

  /** Stops the heartbeat and the signal handling (the process's own Ctrl-C behaviour returns). Idempotent. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const [signal, listener] of this.listeners) process.off(signal, listener);
  }

  /** The signal that asked training to stop, or null. */
  get stopRequested(): NodeJS.Signals | null {
    return this.requested;
  }

  /** Throws the interruption when a signal asked to stop (between training and the report, say). */
  throwIfRequested(where: string): void {
    if (this.requested !== null) throw this.interruption(this.requested, where);
  }

  /**
   * The callback that gives the event loop its turns and ends training at a requested stop: at the next update
   * inside an epoch after having `checkpoint` save checkpoints/last, or at the end of an epoch (whose checkpoint
   * is written). Put it after `checkpoint`. `agreed`, when given, must also hold for the stop to happen at an
   * update: data parallel stops at the update whose allreduce carried the request, on every rank at once.
   */
  callback(checkpoint: ModelCheckpoint, agreed: () => boolean = () => true): Callback {
    return {
      name: 'runLifecycle',
      onBatchEnd: async (logs, ctx) => {
        await this.turn();
        if (this.requested === null || !agreed() || !ModelCheckpoint.atUpdateInEpoch(logs, ctx)) return;
        await checkpoint.saveLast(ctx);
        throw this.interruption(this.requested, `epoch ${logs.epochIndex + 1}, batch ${logs.batch}/${logs.batchesPerEpoch} (step ${logs.step})`);
      },
      onEpochEnd: async (logs) => {
        await this.turn();
        if (agreed()) this.throwIfRequested(`the end of epoch ${logs.epoch} (step ${logs.step})`);
      },
    };
  }

  /** The error training ends with: where its state was saved, and how to resume. */
  interruption(signal: NodeJS.Signals, where: string): InsightError {
    return ruleError('INSIGHT_E_INTERRUPTED', 'Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update.',
      { signal, run: this.run.dir, savedAt: where }, this.options.resumeFix);
  }

  /** Lets pending signals and timers run, at most every YIELD_MS. */
  private async turn(): Promise<void> {
    const now = performance.now();
    if (now - this.lastTurn < YIELD_MS) return;
    this.lastTurn = now;
    await nextTurn();
  }

  private beat(): void {
    try {
      this.run.heartbeat();
    } catch {
      // The run directory was removed under us: there is nothing left to keep alive.
    }
  }

  private signal(signal: (typeof SIGNALS)[number]): void {
    if (this.requested === null) {
      this.requested = signal;
      this.options.notify(`${signal}: stopping at the next optimizer update, after saving ${this.run.relative(this.run.lastCheckpoint)}` +
        ` (${signal === 'SIGINT' ? 'press Ctrl-C' : 'send SIGTERM'} again to stop at once).`);
      return;
    }
    // A second signal: stop now. The last complete checkpoint stays; the run says it was interrupted.
    this.stop();
    const message = hasCheckpoint(this.run.lastCheckpoint)
      ? `Stopped at once by a second ${signal}: the run keeps its last complete checkpoint. ${this.options.resumeFix}`
      : `Stopped at once by a second ${signal}, before the run's first checkpoint: start it again.`;
    try {
      this.run.setStatus('interrupted', { error: message });
    } catch {
      // run.json cannot be written: the run then shows as crashed, which is as true.
    }
    this.options.notify(message);
    process.exit(EXIT_STATUS[signal]);
  }
}
