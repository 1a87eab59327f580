// --workers N: N processes (node:cluster) share the listening port; each owns its own copy of the models, its
// batchers and its libtorch thread pool (see compute_threads.ts).
// The primary loads no model; the generic supervisor (process/supervisor.ts) forks and restarts workers and
// forwards the termination signal; this file adds what must be cluster-wide for serving:
//   - GET /metrics on any worker answers the aggregate of all workers (prom-client's AggregatorRegistry);
//   - an admin command on any worker runs on every worker, and answers once all have finished;
//   - with --workers auto, an elastic pool (scaling/elastic_pool.ts) adds and drains workers by their load, which
//     each worker reports on request (its ServeMetrics.loadReport()).
// Message types are namespaced 'insight:'.
import cluster, { type Worker } from 'node:cluster';

import { AggregatorRegistry, Registry } from 'prom-client';

import { ServeError } from '../../errors';
import { Supervisor, type SupervisorLogger } from '../../process/supervisor';
import { runAdminCommand, type AdminCommand, type AdminExecutor, type AdminOutcome } from '../repository/admin_executor';
import type { LoadReport } from '../metrics';
import type { ModelRepository } from '../repository/repository';
import { AUTOSCALE_DEFAULTS, type AutoscalerOptions } from '../scaling/autoscaler';
import { ElasticPool, type LoadReply, type LoadRequest } from '../scaling/elastic_pool';

type ToPrimary =
  | { type: 'insight:metrics'; id: number }
  | { type: 'insight:admin'; id: number; command: AdminCommand }
  | { type: 'insight:admin-result'; id: number; outcome: AdminOutcome };
type ToWorker =
  | LoadRequest
  | { type: 'insight:metrics-reply'; id: number; text: string }
  | { type: 'insight:admin-run'; id: number; command: AdminCommand }
  | { type: 'insight:admin-reply'; id: number; outcomes: AdminOutcome[] };

/** --workers auto: the bounds, and optionally the poll interval and thresholds (defaults: AUTOSCALE_DEFAULTS, 1 s polls). */
export interface AutoscaleSettings {
  minWorkers: number;
  maxWorkers: number;
  pollMs?: number;
  /** A drained worker still alive this long after its SIGTERM is killed (default 30 s). */
  killAfterMs?: number;
  thresholds?: Partial<Omit<AutoscalerOptions, 'minWorkers' | 'maxWorkers'>>;
}

/**
 * Runs the primary: supervises `workers` workers (re-running this command; cluster.isWorker tells them apart,
 * each is ready once it listens) and answers their metrics and admin requests. With `autoscale`, the supervisor
 * keeps minWorkers and an elastic pool adds up to maxWorkers by load. Resolves with the exit status once all have
 * exited after SIGTERM/SIGINT, or 1 when workers keep crashing.
 */
export async function runPrimary(workers: number, log: SupervisorLogger, autoscale?: AutoscaleSettings): Promise<number> {
  const aggregator = new AggregatorRegistry();
  /** The primary's own series (autoscaling), appended to the workers' aggregate. */
  const own = new Registry();
  let pool: ElasticPool | null = null;
  /** Broadcast admin commands: the worker that asked, its request id, workers still to answer, their outcomes. */
  const pendingAdmin = new Map<number, { origin: Worker; originId: number; waiting: Set<number>; outcomes: AdminOutcome[] }>();
  let adminId = 0;

  const finishAdmin = (id: number) => {
    const pending = pendingAdmin.get(id)!;
    pendingAdmin.delete(id);
    send(pending.origin, { type: 'insight:admin-reply', id: pending.originId, outcomes: pending.outcomes });
  };
  const onMessage = (worker: Worker, message: ToPrimary) => {
    if (pool?.onMessage(worker, message)) return;
    if (message?.type === 'insight:metrics') {
      Promise.all([aggregator.clusterMetrics(), own.metrics()])
        .then(([text, primary]) => send(worker, { type: 'insight:metrics-reply', id: message.id, text: text + primary }))
        .catch((error: Error) => send(worker, { type: 'insight:metrics-reply', id: message.id, text: `# metrics aggregation failed: ${error.message}\n` }));
    } else if (message?.type === 'insight:admin') {
      const id = ++adminId;
      const connected = pool?.live() ?? supervisor.workers();
      pendingAdmin.set(id, { origin: worker, originId: message.id, waiting: new Set(connected.map((w) => w.id)), outcomes: [] });
      for (const w of connected) send(w, { type: 'insight:admin-run', id, command: message.command });
    } else if (message?.type === 'insight:admin-result') {
      const pending = pendingAdmin.get(message.id);
      if (pending === undefined) return;
      pending.outcomes.push(message.outcome);
      pending.waiting.delete(worker.id);
      if (pending.waiting.size === 0) finishAdmin(message.id);
    }
  };
  const onExit = (worker: Worker) => {
    for (const [id, pending] of pendingAdmin) {
      if (pending.waiting.delete(worker.id) && pending.waiting.size === 0) finishAdmin(id);
    }
  };

  const supervisor = Supervisor.start({
    workers: autoscale?.minWorkers ?? workers, log, readyWhen: 'listening', restart: true,
    onMessage: (worker, message) => onMessage(worker, message as ToPrimary), onExit,
  });
  if (autoscale === undefined) return supervisor.done;
  const elastic = new ElasticPool({
    autoscaler: { ...AUTOSCALE_DEFAULTS, ...autoscale.thresholds, minWorkers: autoscale.minWorkers, maxWorkers: autoscale.maxWorkers },
    pollMs: autoscale.pollMs ?? 1000, killAfterMs: autoscale.killAfterMs ?? 30_000,
  }, () => supervisor.workers(), log, own);
  pool = elastic;
  // Extra workers exit on their own only when drained, so exits the pool did not ask for are routed here too.
  cluster.on('exit', onExit);
  const stop = () => void elastic.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  void supervisor.ready.then((ready) => {
    if (ready) elastic.start();
  });
  const status = await supervisor.done;
  await elastic.stop();
  cluster.off('exit', onExit);
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  return status;
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}

/**
 * The worker's side: its registry joins the cluster aggregate, it executes admin commands broadcast by the
 * primary on its repository, and it forwards its own admin and metrics requests to the primary.
 */
export function workerBridge(registry: Registry, repository: ModelRepository, load?: () => Promise<LoadReport>): { admin: AdminExecutor; metricsText(): Promise<string> } {
  // Constructing one installs prom-client's worker-side listener that answers the primary's scrapes.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let nextId = 0;
  const waiting = new Map<number, (message: ToWorker) => void>();
  process.on('message', (message: ToWorker) => {
    if (message?.type === 'insight:load') {
      void load?.().then((report) => process.send?.({ type: 'insight:load-reply', id: message.id, load: report } satisfies LoadReply));
    } else if (message?.type === 'insight:admin-run') {
      void runAdminCommand(repository, message.command).then((outcome) =>
        process.send?.({ type: 'insight:admin-result', id: message.id, outcome } satisfies ToPrimary));
    } else if (message?.type === 'insight:metrics-reply' || message?.type === 'insight:admin-reply') {
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    }
  });
  const ask = (message: (id: number) => ToPrimary) => new Promise<ToWorker>((resolve, reject) => {
    const id = ++nextId;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the cluster primary did not answer within 60 s'));
    }, 60_000);
    waiting.set(id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    process.send?.(message(id));
  });
  return {
    async metricsText() {
      const reply = await ask((id) => ({ type: 'insight:metrics', id }));
      return reply.type === 'insight:metrics-reply' ? reply.text : '';
    },
    admin: {
      async run(command) {
        const reply = await ask((id) => ({ type: 'insight:admin', id, command }));
        const outcomes = reply.type === 'insight:admin-reply' ? reply.outcomes : [];
        const failed = outcomes.find((o): o is Extract<AdminOutcome, { ok: false }> => !o.ok);
        if (failed !== undefined) throw new ServeError(failed.code, failed.message);
        const first = outcomes.find((o): o is Extract<AdminOutcome, { ok: true }> => o.ok);
        return { models: first?.models ?? [], workers: outcomes.length };
      },
    },
  };
}
