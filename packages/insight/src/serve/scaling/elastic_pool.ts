// `--workers auto` in the cluster primary: the supervisor (process/supervisor.ts) keeps --min-workers workers alive
// (and restarts them); this pool adds the workers above that. Every `pollMs` it asks each worker for its load
// (IPC 'insight:load' → 'insight:load-reply' with a LoadReport), feeds the Autoscaler and applies its decision:
// up = fork one more worker (no other decision until it listens); down = drain the newest extra one — disconnect (the primary stops giving it
// connections, its servers close once their in-flight requests are answered), then SIGTERM (its graceful stop),
// SIGKILL if it is still alive after `killAfterMs`. Its metrics join the primary's own registry.
import cluster, { type Worker } from 'node:cluster';

import { Counter, Gauge, type Registry } from 'prom-client';

import type { SupervisorLogger } from '../../process/supervisor';
import type { LoadReport } from '../metrics';
import { Autoscaler, type AutoscalerOptions } from './autoscaler';

export interface ElasticPoolOptions {
  autoscaler: AutoscalerOptions;
  /** Interval between load polls (one Autoscaler observation each). */
  pollMs: number;
  /** A draining worker still alive this long after its SIGTERM is killed. */
  killAfterMs: number;
}

export type LoadRequest = { type: 'insight:load'; id: number };
export type LoadReply = { type: 'insight:load-reply'; id: number; load: LoadReport };

export class ElasticPool {
  private readonly autoscaler: Autoscaler;
  /** Workers this pool forked (above the supervisor's minimum), oldest first; draining ones are not in it. */
  private readonly extras: Worker[] = [];
  private readonly draining = new Set<Worker>();
  /** Forked and not yet listening: no decision is taken until it serves (its start-up is not idleness). */
  private readonly starting = new Set<Worker>();
  private readonly replies = new Map<number, LoadReport>();
  private pollId = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly scaleEvents: Counter<'direction'>;
  private readonly queueGauge: Gauge;

  constructor(
    private readonly options: ElasticPoolOptions,
    /** The supervisor's live workers (the minimum). */
    private readonly baseWorkers: () => Worker[],
    private readonly log: SupervisorLogger,
    registry: Registry,
  ) {
    this.autoscaler = new Autoscaler(options.autoscaler);
    this.scaleEvents = new Counter({ name: 'insight_scale_events_total', help: 'Workers added (direction="up") and drained (direction="down") by --workers auto.', labelNames: ['direction'], registers: [registry] });
    this.scaleEvents.inc({ direction: 'up' }, 0);
    this.scaleEvents.inc({ direction: 'down' }, 0);
    this.queueGauge = new Gauge({ name: 'insight_autoscale_mean_queue_depth', help: 'Mean queue depth per worker at the last autoscaler poll.', registers: [registry] });
  }

  /** Workers serving now (not draining). */
  live(): Worker[] {
    return [...this.baseWorkers(), ...this.extras.filter((w) => w.isConnected())];
  }

  start(): void {
    const tick = () => {
      void this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
      });
    };
    this.timer = setTimeout(tick, this.options.pollMs);
  }

  /** A worker's message; true when it was the pool's. */
  onMessage(worker: Worker, message: unknown): boolean {
    const m = message as LoadReply | null;
    if (m?.type !== 'insight:load-reply' || m.id !== this.pollId) return m?.type === 'insight:load-reply';
    this.replies.set(worker.id, m.load);
    return true;
  }

  /** Stops scaling and SIGTERMs every extra worker (the supervisor stops its own); resolves once they exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const all = [...this.extras, ...this.draining];
    await Promise.all(all.map((w) => this.terminate(w)));
  }

  private async poll(): Promise<void> {
    // A crashed base worker is the supervisor's to replace (after its restart delay): no decision until it is back,
    // or the autoscaler's "below --min-workers" would fork one more here too (drained again only after downAfter).
    if (this.baseWorkers().length < this.options.autoscaler.minWorkers) return;
    const workers = this.live();
    const id = ++this.pollId;
    this.replies.clear();
    for (const w of workers) if (w.isConnected()) w.send({ type: 'insight:load', id } satisfies LoadRequest);
    // Answers come within a fraction of the interval; a busy worker that misses it counts as not reporting.
    const deadline = Date.now() + Math.max(20, this.options.pollMs / 2);
    while (this.replies.size < workers.length && Date.now() < deadline && !this.stopped) await new Promise((r) => setTimeout(r, 5));
    if (this.stopped || this.starting.size > 0) return;
    const loads = [...this.replies.values()];
    const decision = this.autoscaler.observe(workers.length, loads);
    this.queueGauge.set(decision.meanQueueDepth);
    if (decision.change === 1) {
      const worker = cluster.fork();
      this.extras.push(worker);
      this.starting.add(worker);
      worker.once('listening', () => this.starting.delete(worker));
      worker.once('exit', (code: number | null, signal: string | null) => {
        // The supervisor logs only its own workers: a crash of an added one is said here.
        if (!this.draining.has(worker) && !this.stopped) this.log.error({ worker: worker.process.pid, code, signal }, 'autoscale: an added worker exited unexpectedly');
        this.forget(worker);
      });
      this.scaleEvents.inc({ direction: 'up' });
      this.log.info({ workers: workers.length + 1, reason: decision.reason }, 'autoscale: adding a worker');
    } else if (decision.change === -1) {
      const worker = this.extras.pop();
      if (worker === undefined) return; // the supervisor's minimum is never drained
      this.scaleEvents.inc({ direction: 'down' });
      this.log.info({ workers: workers.length - 1, worker: worker.process.pid, reason: decision.reason }, 'autoscale: draining a worker');
      void this.terminate(worker);
    }
  }

  /** Drains `worker`: disconnect (no new connections; in-flight requests finish), then SIGTERM, then SIGKILL. */
  private terminate(worker: Worker): Promise<void> {
    const index = this.extras.indexOf(worker);
    if (index >= 0) this.extras.splice(index, 1);
    this.draining.add(worker);
    return new Promise<void>((resolve) => {
      if (worker.isDead()) {
        this.forget(worker);
        resolve();
        return;
      }
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), this.options.killAfterMs);
      worker.once('exit', () => {
        clearTimeout(kill);
        this.forget(worker);
        resolve();
      });
      const stop = () => {
        if (!worker.isDead()) worker.process.kill('SIGTERM');
      };
      if (worker.isConnected()) {
        worker.once('disconnect', stop);
        worker.disconnect();
      } else {
        stop();
      }
    });
  }

  private forget(worker: Worker): void {
    this.draining.delete(worker);
    this.starting.delete(worker);
    const index = this.extras.indexOf(worker);
    if (index >= 0) this.extras.splice(index, 1);
  }
}
