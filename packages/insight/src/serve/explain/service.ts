// The explanation side of one server: its queue and its metrics, made on first use (route factories run without a
// live context, e.g. in the README test) and registered in the server's own Prometheus registry:
//   insight_serve_explain_passes_total{model,method}   model passes computed (the unit of --explain-max-work)
//   insight_serve_explain_duration_seconds{model}      time a job computed (queue wait not included)
//   insight_serve_explain_queue_passes{state}          passes waiting and running now
import { Counter, Gauge, Histogram } from 'prom-client';

import type { MethodOptions } from '../../explain/attribution';
import type { ExplainMethod } from '../../explain/method_names';
import type { ServeContext } from '../http/context';
import { ExplainQueue } from './queue';
import { passesPerImage } from './work';

const PREFIX = 'insight_serve_explain_';

export interface ExplainService {
  queue: ExplainQueue;
  /** Records a finished job. */
  observe(model: string, methods: readonly ExplainMethod[], images: number, options: MethodOptions, inputShape: readonly number[], seconds: number): void;
}

const services = new WeakMap<ServeContext, ExplainService>();

/** The server's explanation service (one per context). Waiting work is bounded by 4 x --explain-max-work. */
export function explainService(ctx: ServeContext): ExplainService {
  let service = services.get(ctx);
  if (service !== undefined) return service;
  const queue = new ExplainQueue({ maxWaitingWork: 4 * ctx.config.explainMaxWork, timeoutMs: ctx.config.timeoutMs });
  const registers = [ctx.metrics.registry];
  const passes = new Counter({ name: `${PREFIX}passes_total`, help: 'Model passes computed by explanations, by model and method.', labelNames: ['model', 'method'], registers });
  const seconds = new Histogram({
    name: `${PREFIX}duration_seconds`, help: 'Compute time of an explanation request (queue wait excluded).', labelNames: ['model'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers,
  });
  new Gauge({
    name: `${PREFIX}queue_passes`, help: 'Model passes of explanation requests waiting and running.', labelNames: ['state'], registers,
    collect() {
      this.set({ state: 'waiting' }, queue.waitingWork);
      this.set({ state: 'running' }, queue.activeWork);
    },
  });
  service = {
    queue,
    observe(model, methods, images, options, inputShape, elapsed) {
      for (const [method, perImage] of Object.entries(passesPerImage(methods, options, inputShape))) passes.inc({ model, method }, images * perImage);
      seconds.observe({ model }, elapsed);
    },
  };
  services.set(ctx, service);
  return service;
}
