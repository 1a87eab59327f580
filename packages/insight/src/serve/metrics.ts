// Prometheus metrics of one server process (prom-client, a registry of its own so several servers can live in
// one process, e.g. in tests). Request series are labelled by route pattern, never by raw URL, to keep
// cardinality bounded; model series by model name and version. Gauges that describe state (queue depth,
// model versions, live tensors) are read at scrape time, so they cannot drift.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { tf } from '../backend';
import type { BatchObserver } from './batching/batcher';
import { DriftMonitor } from './monitoring/drift_monitor';
import type { ModelSnapshot } from './repository/repository';
import type { Servable } from './repository/servable';

const PREFIX = 'insight_serve_';

/** What a worker reports to the autoscaler (serve/scaling/): its queue and its recent latency. */
export interface LoadReport {
  /** Requests received and not yet answered (they include the instances waiting in the batching queues). */
  queueDepth: number;
  /** p95 latency (ms) of the inference requests answered since the previous report; null when none was. */
  p95Ms: number | null;
}

type DriftSnapshotLike = { channelMean: number[]; channelStd: number[] };

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
  readonly authFailures: Counter<'outcome'>;
  readonly modelLoadFailures: Counter<'model' | 'reason'>;
  /** Drift of each model's traffic against its training distribution (gauges insight_drift_*, insight_input_channel_*). */
  readonly drift = new DriftMonitor();
  private sources: MetricSources | null = null;
  /** requestSeconds' inference buckets at the previous loadReport(), to take the p95 of what came since. */
  private lastBuckets = new Map<number, number>();

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
    this.authFailures = new Counter({
      name: `${PREFIX}auth_failures_total`, help: 'Requests refused for their credentials: rejected (401) or throttled (429, too many failures from the address).',
      labelNames: ['outcome'], registers,
    });
    this.modelLoads = new Counter({ name: `${PREFIX}model_loads_total`, help: 'Model version load attempts by outcome (ok, failed).', labelNames: ['model', 'outcome'], registers });
    // Named for the alert rules (deploy/prometheus): reason = a refused file's problem (run/safe_files.ts) or invalid.
    this.modelLoadFailures = new Counter({
      name: 'insight_model_load_failures_total', help: 'Failed model version loads by reason (not_regular_file, outside_root, size_mismatch, too_large, timeout, missing, unreadable, invalid).',
      labelNames: ['model', 'reason'], registers,
    });
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
    // Operations metrics, named without the serve_ prefix (the names alerts, dashboards and the HPA use; deploy/).
    // In a cluster the primary sums each worker's registry, so insight_workers counts the workers and
    // insight_queue_depth is the pod's total.
    new Gauge({
      name: 'insight_workers', help: 'Serving worker processes (1 per process; summed over a cluster\'s workers).', registers,
      collect() {
        this.set(1);
      },
    });
    const inFlight = this.inFlight;
    new Gauge({
      name: 'insight_queue_depth', help: 'Requests received and not yet answered (the autoscaling signal; summed over workers).', registers,
      async collect() {
        this.set((await inFlight.get()).values[0]?.value ?? 0);
      },
    });
    const monitor = this.drift;
    // Windows of models no longer served (unloaded, removed) are dropped at scrape time.
    const drift = { snapshots: () => {
      const current = sources();
      return monitor.snapshots(current === null ? undefined : new Set(current.servables().map((s) => s.name)));
    } };
    new Gauge({
      name: 'insight_drift_psi', help: 'Population Stability Index of the predicted classes over the last window vs the training class frequencies.',
      labelNames: ['model'], registers, aggregator: 'average',
      collect() {
        this.reset();
        for (const { model, snapshot } of drift.snapshots()) this.set({ model }, snapshot.psi);
      },
    });
    const perChannel = (name: string, help: string, pick: (s: DriftSnapshotLike) => number[]) => new Gauge({
      name, help, labelNames: ['model', 'channel'], registers, aggregator: 'average',
      collect() {
        this.reset();
        for (const { model, snapshot } of drift.snapshots()) pick(snapshot).forEach((v, c) => this.set({ model, channel: String(c) }, v));
      },
    });
    perChannel('insight_input_channel_mean', 'Mean of the normalized input per channel over the last window (training: insight_training_channel_mean).', (s) => s.channelMean);
    perChannel('insight_input_channel_std', 'Standard deviation of the normalized input per channel over the last window.', (s) => s.channelStd);
    const servables = () => sources()?.servables() ?? [];
    const reference = (name: string, help: string, pick: (d: NonNullable<Servable['metadata']['trainingDistribution']>) => number[]) => new Gauge({
      name, help, labelNames: ['model', 'channel'], registers, aggregator: 'average',
      collect() {
        this.reset();
        const seen = new Set<string>();
        for (const s of servables()) {
          const d = s.metadata.trainingDistribution;
          if (d === undefined || seen.has(s.name) || !drift.snapshots().some((x) => x.model === s.name)) continue;
          seen.add(s.name);
          pick(d).forEach((v, c) => this.set({ model: s.name, channel: String(c) }, v));
        }
      },
    });
    reference('insight_training_channel_mean', 'Mean of the normalized training input per channel (from the model metadata).', (d) => d.channelMean);
    reference('insight_training_channel_std', 'Standard deviation of the normalized training input per channel (from the model metadata).', (d) => d.channelStd);
    new Gauge({
      name: 'insight_predicted_class_share', help: 'Share of the last window\'s predictions in each class.',
      labelNames: ['model', 'class'], registers, aggregator: 'average',
      collect() {
        this.reset();
        for (const { model, snapshot } of drift.snapshots()) snapshot.predictedShare.forEach((v, k) => this.set({ model, class: String(k) }, v));
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
      onOutputs: (x, rows, output) => {
        const servable = this.sources?.servables().find((s) => s.name === model && s.metadata.trainingDistribution !== undefined);
        try {
          this.drift.observe(model, servable?.metadata, x, rows, output.probabilities);
        } catch {
          // Monitoring never fails a request: a batch it cannot reduce is left out of the window.
        }
      },
    };
  }

  /**
   * The load this process reports to the autoscaler: requests in flight, and the p95 of the inference requests
   * (isInferenceRoute) answered since the previous call, read from requestSeconds' buckets
   * (so it is a bucket bound: 5, 10, 25 ... ms).
   */
  async loadReport(): Promise<LoadReport> {
    const queueDepth = (await this.inFlight.get()).values[0]?.value ?? 0;
    const buckets = new Map<number, number>();
    for (const v of (await this.requestSeconds.get()).values) {
      const route = String(v.labels.route ?? '');
      if (v.metricName !== `${PREFIX}request_duration_seconds_bucket` || !isInferenceRoute(route)) continue;
      const raw = (v.labels as Record<string, string | number>).le;
      const le = raw === '+Inf' ? Infinity : Number(raw);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const since = bounds.map((le) => buckets.get(le)! - (this.lastBuckets.get(le) ?? 0));
    this.lastBuckets = buckets;
    const total = since[since.length - 1] ?? 0;
    if (total <= 0) return { queueDepth, p95Ms: null };
    const index = since.findIndex((cumulative) => cumulative >= 0.95 * total);
    const bound = bounds[index];
    return { queueDepth, p95Ms: Number.isFinite(bound) ? bound * 1000 : bounds[bounds.length - 2] * 1000 * 2 };
  }

  onLoad(event: { model: string; ok: boolean; reason?: string }): void {
    this.modelLoads.inc({ model: event.model, outcome: event.ok ? 'ok' : 'failed' });
    if (!event.ok) this.modelLoadFailures.inc({ model: event.model, reason: event.reason ?? 'invalid' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Routes whose latency is inference's: REST under /v1/ and /v2/models/, gRPC's ModelInfer, Predict and Classify. */
function isInferenceRoute(route: string): boolean {
  return route.startsWith('/v1/') || route.startsWith('/v2/models/') || /^grpc \S+\/(ModelInfer|Predict|Classify)$/.test(route);
}
