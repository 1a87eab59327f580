// Wiring: a server is a fastify app + a model repository + keys + a rate limiter + metrics. createServe builds
// and loads it without listening (tests use app.inject); startServe listens and stops gracefully on
// SIGTERM/SIGINT. In a cluster worker the admin commands and /metrics go through the primary. startupBanner is
// the few lines a person reads on start (address, models and versions, auth, backend), beside the JSON logs.
import cluster from 'node:cluster';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../errors';
import { parseTta } from '../models/tta_settings';
import { startBackend } from '../run/backend_choice';
import { KeyRing } from './auth/key_ring';
import { installCapture } from './capture/capture_hooks';
import { applyComputeThreads, computeThreads } from './compute_threads';
import type { KeySources } from './auth/key_source';
import { isLoopback, type ServeConfig } from './config';
import type { ServeContext } from './http/context';
import { listenGrpc, type GrpcListener } from './grpc/server';
import { createApp, mountServe, type AppOptions } from './http/server';
import { workerBridge } from './lifecycle/cluster';
import { onTerminationSignal, shutdown } from './lifecycle/shutdown';
import { AuthThrottle } from './limits/auth_throttle';
import { RateLimiter } from './limits/rate_limiter';
import { ServeMetrics } from './metrics';
import { localAdmin } from './repository/admin_executor';
import { ModelRepository, type ModelSnapshot } from './repository/repository';
import { detectLayout } from './repository/scan';

export interface ServeInstance {
  app: FastifyInstance;
  ctx: ServeContext;
  /** The active compute backend ('torch' or 'cpu'). */
  backend: string;
  /** Graceful stop (what SIGTERM does); resolves true when in-flight work finished within shutdownTimeoutMs. */
  close(): Promise<boolean>;
  /** The gRPC server (--grpc-port), once startServe (or listenGrpcOn) started it; close() stops it too. */
  grpc: GrpcListener | null;
}

/** Keys for the server: none is allowed only on a loopback address. */
export function checkExposure(config: ServeConfig, keys: Pick<KeySources, 'inference' | 'admin'>): void {
  if (!isLoopback(config.host) && keys.inference.length === 0 && keys.admin.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'insight serve listens beyond loopback (127.0.0.1, ::1) only with API keys configured.',
      { host: config.host, apiKeys: 0 },
      'Set INSIGHT_API_KEYS (comma-separated) or --api-keys-file <file> (one key per line, e.g. from `openssl rand -hex 24`), or use --host 127.0.0.1.');
  }
}

/** Builds and loads a server (models loaded, routes ready), not yet listening. */
export async function createServe(config: ServeConfig, keys: KeySources, options: AppOptions = {}): Promise<ServeInstance> {
  checkExposure(config, keys);
  const backendName = await startBackend(config.backend);
  const wantedThreads = computeThreads(config);
  const threads = applyComputeThreads(wantedThreads);
  const app = createApp(config, options);
  app.log.info({ backend: backendName, computeThreads: threads }, 'compute backend ready');
  const metrics = new ServeMetrics();
  const repository = new ModelRepository({
    root: config.models,
    keepVersions: config.keepVersions,
    pollMs: config.pollMs,
    loadTimeoutMs: config.loadTimeoutMs,
    batcher: { maxBatchSize: config.maxBatchSize, maxQueueDelayMs: config.maxQueueDelayMs, maxQueueSize: config.maxQueueSize, timeoutMs: config.timeoutMs },
    computeThreads: wantedThreads,
    tta: config.tta === null ? null : parseTta(config.tta),
    logger: app.log,
    observer: (model) => metrics.observer(model),
    onLoad: (event) => metrics.onLoad(event),
  });
  metrics.watch(repository);
  const clustered = cluster.isWorker && config.workers > 1;
  const bridge = clustered ? workerBridge(metrics.registry, repository, () => metrics.loadReport()) : null;
  const ring = new KeyRing(keys.inference, keys.admin);
  const ctx: ServeContext = {
    config,
    repository,
    keys: ring,
    limiter: new RateLimiter(config.rateLimit, config.rateBurst),
    authThrottle: new AuthThrottle(),
    metrics,
    admin: bridge?.admin ?? localAdmin(repository),
    metricsText: bridge?.metricsText ?? (() => metrics.text()),
    lifecycle: { shuttingDown: false },
  };
  for (const warning of keys.warnings ?? []) app.log.warn(warning);
  if (ring.isOpen) app.log.warn({ host: config.host }, 'no API keys configured: every route is open to local clients (loopback only)');
  installCapture(app, config, { defaultVersion: (model) => defaultVersionOf(repository, model) });
  await mountServe(app, ctx);
  try {
    await repository.start();
    await app.ready();
  } catch (error) {
    await repository.close();
    await app.close();
    throw error;
  }
  let closing: Promise<boolean> | null = null;
  const instance: ServeInstance = {
    app, ctx, backend: backendName, grpc: null,
    close: () => (closing ??= shutdown(app, ctx, config.shutdownTimeoutMs, instance.grpc?.server ?? null)),
  };
  return instance;
}

/** Starts the gRPC server of `instance` on --host:`port` (startServe does this for --grpc-port). */
export async function listenGrpcOn(instance: ServeInstance, port: number): Promise<GrpcListener> {
  instance.grpc = await listenGrpc(instance.ctx, instance.app.log, instance.ctx.config.host, port);
  instance.app.log.info({ grpc: instance.grpc.address }, 'gRPC server listening');
  return instance.grpc;
}

/** The version a request without one goes to (the model's highest serving version), or null. */
function defaultVersionOf(repository: ModelRepository, model: string): number | null {
  return repository.snapshot().find((m) => m.name === model)?.servingVersions[0] ?? null;
}

/** createServe + listen + graceful stop on SIGTERM/SIGINT. Resolves with the instance and its URL. */
export async function startServe(config: ServeConfig, keys: KeySources, options: AppOptions = {}): Promise<ServeInstance & { url: string; stopped: Promise<boolean> }> {
  const instance = await createServe(config, keys, options);
  let url: string;
  try {
    url = await instance.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await instance.close();
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw ruleError('INSIGHT_E_LISTEN', 'insight serve needs a free port on an address of this machine.', { host: config.host, port: config.port, error: code },
      code === 'EADDRINUSE' ? 'Stop the other server or pick another --port (0 = any free port).' : 'Check --host (e.g. 127.0.0.1, or 0.0.0.0 with API keys).');
  }
  if (config.grpcPort !== null) {
    try {
      await listenGrpcOn(instance, config.grpcPort);
    } catch (error) {
      await instance.close();
      throw error;
    }
  }
  const stopped = new Promise<boolean>((resolve) => {
    const remove = onTerminationSignal((signal) => {
      instance.app.log.info({ signal }, 'signal received');
      void instance.close().then((inTime) => {
        remove();
        resolve(inTime);
      });
    });
  });
  return { ...instance, url, stopped };
}

/** One model's versions for the banner: 'versions 3, 2 (serving 3)', 'version 1 (failed: <reason>)'. */
function versionsText(model: ModelSnapshot): string {
  const disk = model.diskVersions;
  const failed = model.versions.filter((v) => v.error !== null && !model.servingVersions.includes(v.version));
  const parts = [`version${disk.length === 1 ? '' : 's'} ${disk.join(', ') || '-'}`];
  if (model.unloaded) parts.push('unloaded');
  else if (model.servingVersions.length > 0 && (disk.length > 1 || model.servingVersions.length !== disk.length)) parts.push(`serving ${model.servingVersions.join(', ')}`);
  else if (model.servingVersions.length === 0) parts.push('not serving');
  for (const v of failed) parts.push(`v${v.version} failed to load: ${v.error}`);
  return parts.length === 1 ? parts[0] : `${parts[0]} (${parts.slice(1).join('; ')})`;
}

/**
 * The start-up banner, for people (stderr; the logs stay JSON on stdout):
 *   insight serve: listening on http://127.0.0.1:8501
 *     models:  /srv/models (a repository of <model>/<version>/)
 *              cifar  versions 3, 2 (serving 3)
 *     auth:    off: no API keys; every route is open to local clients (loopback only)
 *     backend: torch
 *     try:     curl -H 'Content-Type: image/jpeg' --data-binary @cat.jpg http://127.0.0.1:8501/v1/models/cifar:classify-image
 */
export function startupBanner(server: ServeInstance, url: string, keys: Pick<KeySources, 'inference' | 'admin'>): string {
  const { config, repository } = server.ctx;
  const layout = detectLayout(config.models);
  const root = path.resolve(config.models);
  const models = repository.snapshot();
  const lines = [`insight serve: listening on ${url}`];
  const where = layout.kind === 'repository' ? `${root} (a repository of <model>/<version>/ directories)`
    : layout.kind === 'run' ? `${root} (a run directory: its model/ as "${layout.name}" version ${layout.version})`
      : `${root} (one model directory, as "${layout.name}" version ${layout.version})`;
  lines.push(`  models:  ${where}`);
  const width = Math.max(0, ...models.map((m) => m.name.length));
  for (const model of models) lines.push(`           ${model.name.padEnd(width)}  ${versionsText(model)}`);
  if (models.length === 0) {
    const every = config.pollMs > 0 ? `; polling every ${config.pollMs / 1000} s` : '; polling is off (--poll-ms 0): restart once it is there';
    lines.push(layout.kind === 'run' ? `           none yet: the run has no model/ until its training completes${every}`
      : `           none yet: no <model>/<version>/model.json under ${root}${every}`);
  }
  const auth = keys.inference.length === 0 && keys.admin.length === 0
    ? 'off: no API keys; every route is open to local clients (loopback only)'
    : `on: ${keys.inference.length} inference key${keys.inference.length === 1 ? '' : 's'}, ${keys.admin.length} admin key${keys.admin.length === 1 ? '' : 's'} (Authorization: Bearer <key>)`;
  if (server.grpc !== null) lines.push(`  grpc:    ${server.grpc.address} (tensorflow.serving.PredictionService, inference.GRPCInferenceService)`);
  lines.push(`  auth:    ${auth}`);
  const workers = config.autoscale ? ` (${config.minWorkers} to ${config.maxWorkers} worker processes by load: --workers auto)`
    : config.workers > 1 ? ` (${config.workers} worker processes)` : '';
  lines.push(`  backend: ${server.backend}${workers}`);
  const first = models.find((m) => m.servingVersions.length > 0)?.name ?? (layout.kind === 'repository' ? '<model>' : layout.name);
  lines.push(`  try:     curl -H 'Content-Type: image/jpeg' --data-binary @cat.jpg ${url}/v1/models/${first}:classify-image`);
  return `${lines.join('\n')}\n`;
}
