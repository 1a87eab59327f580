// Prometheus metrics of one server process (prom-client, a registry of its own so several servers can live in
// one process, e.g. in tests). Request series are labelled by route pattern, never by raw URL, to keep
// cardinality bounded; model series by model name and version. Gauges that describe state (queue depth,
// model versions, live tensors) are read at scrape time, so they cannot drift.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { tf } from '../backend';
import type { BatchObserver } from './batching/batcher';
import type { ModelSnapshot } from './repository/repository';
import type { Servable } from './repository/servable';

const PREFIX = 'insight_serve_';

/** What the state gauges read at scrape time. */
export interface MetricSources {
  servables(): Servable[];
  snapshot(): ModelSnapshot[];
}

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly requestSeconds: Histogram<'route' | 'method'>;
  readonly inFlight: Gauge;
  readonly batchSize: Histogram<'model'>;
  readonly forwardSeconds: Histogram<'model'>;
  readonly queueWaitSeconds: Histogram<'model'>;
  readonly modelLoads: Counter<'model' | 'outcome'>;
  private sources: MetricSources | null = null;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.requests = new Counter({ name: `${PREFIX}requests_total`, help: 'HTTP requests by route pattern, method and status.', labelNames: ['route', 'method', 'status'], registers });
    this.requestSeconds = new Histogram({
      name: `${PREFIX}request_duration_seconds`, help: 'HTTP request latency (receipt to response) by route pattern and method.',
      labelNames: ['route', 'method'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    });
    this.inFlight = new Gauge({ name: `${PREFIX}in_flight_requests`, help: 'Requests received and not yet answered.', registers });
    this.batchSize = new Histogram({
      name: `${PREFIX}batch_size`, help: 'Instances per forward pass (dynamic batching).', labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers,
    });
    this.forwardSeconds = new Histogram({
      name: `${PREFIX}forward_duration_seconds`, help: 'Forward pass time per batch.', labelNames: ['model'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers,
    });
    this.queueWaitSeconds = new Histogram({
      name: `${PREFIX}queue_wait_seconds`, help: 'Time a request waited in the batching queue.', labelNames: ['model'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers,
    });
    this.modelLoads = new Counter({ name: `${PREFIX}model_loads_total`, help: 'Model version load attempts by outcome (ok, failed).', labelNames: ['model', 'outcome'], registers });
    // prom-client calls collect() with `this` = the gauge, so the sources are reached through a closure.
    const sources = () => this.sources;
    new Gauge({
      name: `${PREFIX}queue_depth`, help: 'Instances waiting in a model version\'s batching queue.', labelNames: ['model', 'version'], registers,
      collect() {
        this.reset();
        for (const s of sources()?.servables() ?? []) this.set({ model: s.name, version: String(s.version) }, s.batcher.queuedRows);
      },
    });
    new Gauge({
      name: `${PREFIX}model_version_state`, help: 'Model versions by TF Serving state (1 = in that state); error="1" marks a failed last load.',
      labelNames: ['model', 'version', 'state', 'error'], registers, aggregator: 'max',
      collect() {
        this.reset();
        for (const m of sources()?.snapshot() ?? []) {
          for (const v of m.versions) this.set({ model: m.name, version: String(v.version), state: v.state, error: v.error === null ? '0' : '1' }, 1);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}tensors`, help: 'Live TensorFlow.js tensors (steady when nothing leaks).', registers,
      collect() {
        this.set(tf.memory().numTensors);
      },
    });
  }

  /** Connects the scrape-time gauges to the repository. */
  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  /** The batcher observer for one model. */
  observer(model: string): BatchObserver {
    return {
      onBatch: (rows, seconds) => {
        this.batchSize.observe({ model }, rows);
        this.forwardSeconds.observe({ model }, seconds);
      },
      onQueueWait: (seconds) => this.queueWaitSeconds.observe({ model }, seconds),
    };
  }

  onLoad(event: { model: string; ok: boolean }): void {
    this.modelLoads.inc({ model: event.model, outcome: event.ok ? 'ok' : 'failed' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
