// Wiring: a server is a fastify app + a model repository + keys + a rate limiter + metrics. createServe builds
// and loads it without listening (tests use app.inject); startServe listens and stops gracefully on
// SIGTERM/SIGINT. In a cluster worker the admin commands and /metrics go through the primary.
import cluster from 'node:cluster';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../errors';
import { startBackend } from '../run/backend_choice';
import { KeyRing } from './auth/key_ring';
import { applyComputeThreads, computeThreads } from './compute_threads';
import type { KeySources } from './auth/key_source';
import { isLoopback, type ServeConfig } from './config';
import type { ServeContext } from './http/context';
import { createApp, mountServe, type AppOptions } from './http/server';
import { workerBridge } from './lifecycle/cluster';
import { onTerminationSignal, shutdown } from './lifecycle/shutdown';
import { RateLimiter } from './limits/rate_limiter';
import { ServeMetrics } from './metrics';
import { localAdmin } from './repository/admin_executor';
import { ModelRepository } from './repository/repository';

export interface ServeInstance {
  app: FastifyInstance;
  ctx: ServeContext;
  /** Graceful stop (what SIGTERM does); resolves true when in-flight work finished within shutdownTimeoutMs. */
  close(): Promise<boolean>;
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
  const threads = applyComputeThreads(computeThreads(config));
  const app = createApp(config, options);
  app.log.info({ backend: backendName, computeThreads: threads }, 'compute backend ready');
  const metrics = new ServeMetrics();
  const repository = new ModelRepository({
    root: config.models,
    keepVersions: config.keepVersions,
    pollMs: config.pollMs,
    batcher: { maxBatchSize: config.maxBatchSize, maxQueueDelayMs: config.maxQueueDelayMs, maxQueueSize: config.maxQueueSize, timeoutMs: config.timeoutMs },
    logger: app.log,
    observer: (model) => metrics.observer(model),
    onLoad: (event) => metrics.onLoad(event),
  });
  metrics.watch(repository);
  const clustered = cluster.isWorker && config.workers > 1;
  const bridge = clustered ? workerBridge(metrics.registry, repository) : null;
  const ring = new KeyRing(keys.inference, keys.admin);
  const ctx: ServeContext = {
    config,
    repository,
    keys: ring,
    limiter: new RateLimiter(config.rateLimit, config.rateBurst),
    metrics,
    admin: bridge?.admin ?? localAdmin(repository),
    metricsText: bridge?.metricsText ?? (() => metrics.text()),
    lifecycle: { shuttingDown: false },
  };
  for (const warning of keys.warnings ?? []) app.log.warn(warning);
  if (ring.isOpen) app.log.warn({ host: config.host }, 'no API keys configured: every route is open to local clients (loopback only)');
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
  return { app, ctx, close: () => (closing ??= shutdown(app, ctx, config.shutdownTimeoutMs)) };
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
