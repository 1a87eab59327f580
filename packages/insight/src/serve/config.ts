// The typed config of `insight serve`, validated once at the edge like every other command's (flags, a
// --config file, or a library object). Secrets are not part of it: API keys come from the environment or
// key files (see auth/key_source.ts) and never pass through a config object that could be logged.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { parseTta, TTA_SYNTAX } from '../models/tta_settings';
import { FIELDS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';

export const SERVE_SCHEMA = Type.Object({
  /** The model repository: <models>/<model>/<version>/model.json. */
  models: Text({ placeholder: '<dir>', help: 'Model repository: <dir>/<model>/<version>/ model directories (versions are positive integers); or one model directory, or a run directory.',
    missing: { rule: 'serve needs a model repository.',
      fix: 'Pass --models <dir>, a folder of <model>/<version>/ model directories (e.g. models/seed-cnn/1/model.json).' } }),
  port: withOptions(FIELDS.port, { help: 'TCP port (0 = any free port; the ready line says which).' }),
  host: withOptions(FIELDS.host, { help: 'Address to listen on; beyond loopback only with API keys configured.' }),
  grpcPort: Nullable(Type.Integer({ minimum: 0, maximum: 65535 }), { placeholder: '<port>',
    help: 'Also serve gRPC (TF Serving PredictionService, KServe GRPCInferenceService) on this port of --host; 0 = any free port. Default: no gRPC.' }),
  apiKeysFile: Nullable(Text(), { placeholder: '<file>', help: 'Inference API keys, one per line (# comments). Also: env INSIGHT_API_KEYS (comma-separated).' }),
  adminKeysFile: Nullable(Text(), { placeholder: '<file>', help: 'Admin API keys, one per line. Also: env INSIGHT_ADMIN_KEYS (comma-separated).' }),
  maxBatchSize: Type.Integer({ default: 32, minimum: 1, maximum: 1024, placeholder: '<n>', help: 'Dynamic batching: most instances per batch and rows per engine pass (with --tta, instances x views; 1 = no batching).' }),
  maxQueueDelayMs: Type.Number({ default: 0, minimum: 0, maximum: 1000, placeholder: '<ms>',
    help: 'Dynamic batching: longest wait for more requests before a partial batch runs (0: run what has arrived; batches still grow while a pass runs).' }),
  maxQueueSize: Type.Integer({ default: 256, minimum: 1, placeholder: '<n>', help: 'Instances waiting per model; beyond it requests get 503 + Retry-After.' }),
  timeoutMs: Type.Integer({ default: 10000, minimum: 1, placeholder: '<ms>', help: 'Per-request inference timeout (queue wait + forward pass); 504 after it.' }),
  maxInstances: Type.Integer({ default: 64, minimum: 1, placeholder: '<n>', help: 'Most instances (images) in one request.' }),
  bodyLimitMb: Type.Number({ default: 16, minimum: 0.001, maximum: 1024, placeholder: '<mb>', help: 'Largest request body (and multipart file), in MiB; 413 beyond it.' }),
  maxImagePixels: Type.Integer({ default: 25_000_000, minimum: 1, placeholder: '<n>', help: 'Largest width x height of an uploaded image, checked before decoding (decompression bombs).' }),
  explainMaxWork: Type.Integer({ default: 4096, minimum: 1, placeholder: '<n>',
    help: 'Most model passes one :explain request may cost: images x the sum over its methods of ig steps, smoothgrad samples, occlusion patches + 1, or 1 (saliency, gradcam); 400 beyond it.' }),
  rateLimit: Type.Number({ default: 100, minimum: 0, placeholder: '<rps>', help: 'Requests/s per API key (per client address without keys), token bucket, per worker; 0 = off.' }),
  rateBurst: Type.Integer({ default: 200, minimum: 1, placeholder: '<n>', help: 'Token bucket size: requests a key may send at once.' }),
  pollMs: Type.Integer({ default: 2000, minimum: 0, placeholder: '<ms>', help: 'Repository poll interval for hot reload (a new version must be unchanged for one interval); 0 = off.' }),
  loadTimeoutMs: Type.Integer({ default: 60000, minimum: 1, placeholder: '<ms>', help: 'Longest a model version may take to read its files; the load fails after it and the served version stays.' }),
  keepVersions: Type.Integer({ default: 1, minimum: 1, maximum: 100, placeholder: '<n>', help: 'Serve the <n> highest versions of each model (the highest is the default).' }),
  workers: Type.Integer({ default: 1, minimum: 1, maximum: 64, placeholder: '<n|auto>',
    help: 'Worker processes (node:cluster), each with its own copy of the models, sharing the port; auto: between --min-workers and --max-workers by queue depth and latency.' }),
  minWorkers: Type.Integer({ default: 1, minimum: 1, maximum: 64, placeholder: '<n>', help: 'With --workers auto: fewest worker processes.' }),
  maxWorkers: Type.Integer({ default: 4, minimum: 1, maximum: 64, placeholder: '<n>', help: 'With --workers auto: most worker processes.' }),
  computeThreads: Nullable(Type.Integer({ minimum: 1, maximum: 256 }), { placeholder: '<n>',
    help: 'libtorch threads per worker (and ONNX Runtime intra-op threads of .onnx versions). Default: INSIGHT_TORCH_THREADS, else cores / workers - 1 (at least 1): one core stays free for HTTP and JSON.' }),
  topK: withOptions(FIELDS.topK, { help: 'Default number of classes returned by :classify-image (query ?top_k= overrides).' }),
  tta: Nullable(Text(), { placeholder: '<views>',
    help: `Test-time augmentation for every served model, probabilities averaged over views run as one batch: ${TTA_SYNTAX} (N pixels, default 1). Default: each model's stored setting, else none.` }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend (as for train).' }),
  logLevel: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', placeholder: '<level>', help: 'JSON log level (stdout).' }),
  captureRate: Type.Number({ default: 0, minimum: 0, maximum: 1, placeholder: '<p>', help: 'Share of inference requests recorded to --capture-dir (JSON lines: time, model, version, input sha256, prediction, latency); 0 = off.' }),
  captureDir: Nullable(Text(), { placeholder: '<dir>', help: 'Folder of the request capture files (needed when --capture-rate > 0).' }),
  captureRaw: Type.Boolean({ default: false, placeholder: '<bool>', help: 'Also store each captured request body (base64); off: only its hash.' }),
  captureRetentionHours: Type.Number({ default: 24, exclusiveMinimum: 0, placeholder: '<h>', help: 'Capture files older than this are deleted (files rotate hourly and at 64 MiB).' }),
  requestTimeoutMs: Type.Integer({ default: 30000, minimum: 100, placeholder: '<ms>',
    help: 'A client must send its whole request (headers within min(this, 10 s)) in this time; 408 after it (slow bodies).' }),
  keepAliveTimeoutMs: Type.Integer({ default: 72000, minimum: 100, placeholder: '<ms>', help: 'Idle kept-alive connections close after this (above your load balancer\'s idle timeout).' }),
  maxConnections: Type.Integer({ default: 1024, minimum: 0, placeholder: '<n>', help: 'Most open connections per worker; further ones are closed at once. 0 = no cap.' }),
  logClientAddress: OneOf(['full', 'anonymized', 'none'], { default: 'full', placeholder: '<mode>',
    help: 'Client addresses in logs: full, anonymized (IPv4 /24, IPv6 /48: the rest zeroed) or none.' }),
  shutdownTimeoutMs: Type.Integer({ default: 30000, minimum: 0, placeholder: '<ms>', help: 'On SIGTERM/SIGINT, wait this long for in-flight requests before exiting anyway.' }),
  drainMs: Type.Integer({ default: 5000, minimum: 0, placeholder: '<ms>',
    help: 'On SIGTERM/SIGINT, keep listening this long (or until every client connection closed): readiness false, new work 503 + Connection: close.' }),
});

/** The validated config; `autoscale` is set by `workers: 'auto'`, and then `workers` is maxWorkers (the most there can be). */
export type ServeConfig = Static<typeof SERVE_SCHEMA> & { autoscale?: boolean };

/** Validates a serve config (library object, config file, flags); `models` is required. `workers` may be 'auto'. */
export function resolveServeConfig(input: unknown): ServeConfig {
  const auto = typeof input === 'object' && input !== null && String((input as { workers?: unknown }).workers).trim().toLowerCase() === 'auto';
  const config: ServeConfig = validateConfig(SERVE_SCHEMA, auto ? { ...input, workers: undefined } : input, 'serve config');
  if (config.tta !== null) parseTta(config.tta);
  if (auto) Object.assign(config, { workers: config.maxWorkers, autoscale: true });
  if (config.minWorkers > config.maxWorkers) {
    throw ruleError('INSIGHT_E_CONFIG', 'minWorkers must be <= maxWorkers.', { minWorkers: config.minWorkers, maxWorkers: config.maxWorkers },
      'Raise --max-workers or lower --min-workers.');
  }
  if (config.captureRate > 0 && config.captureDir === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'Request capture needs a folder to write to.', { captureRate: config.captureRate, captureDir: null },
      'Pass --capture-dir <dir>, or --capture-rate 0.');
  }
  if (config.maxInstances > config.maxQueueSize) {
    throw ruleError('INSIGHT_E_CONFIG', 'maxInstances must be <= maxQueueSize (a request must fit in the queue).',
      { maxInstances: config.maxInstances, maxQueueSize: config.maxQueueSize }, 'Raise --max-queue-size or lower --max-instances.');
  }
  return config;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
