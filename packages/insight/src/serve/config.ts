// The typed config of `insight serve`, validated once at the edge like every other command's (flags, a
// --config file, or a library object). Secrets are not part of it: API keys come from the environment or
// key files (see auth/key_source.ts) and never pass through a config object that could be logged.
import { ruleError } from '../errors';
import { validateConfig, type Schema } from '../run/config_schema';

export interface ServeConfig {
  /** The model repository: <models>/<model>/<version>/model.json. */
  models: string;
  port: number;
  host: string;
  apiKeysFile: string | null;
  adminKeysFile: string | null;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueueSize: number;
  timeoutMs: number;
  maxInstances: number;
  bodyLimitMb: number;
  maxImagePixels: number;
  rateLimit: number;
  rateBurst: number;
  pollMs: number;
  keepVersions: number;
  workers: number;
  computeThreads: number | null;
  topK: number;
  backend: 'auto' | 'torch' | 'cpu';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  shutdownTimeoutMs: number;
}

export const SERVE_SCHEMA: Schema = {
  models: { type: 'string', default: null, placeholder: '<dir>', help: 'Model repository: <dir>/<model>/<version>/ model directories (versions are positive integers).' },
  port: { type: 'int', default: 8501, min: 0, max: 65535, placeholder: '<port>', help: 'TCP port (0 = any free port; the ready line says which).' },
  host: { type: 'string', default: '127.0.0.1', placeholder: '<addr>', help: 'Address to listen on; beyond loopback only with API keys configured.' },
  apiKeysFile: { type: 'string', default: null, nullable: true, placeholder: '<file>', help: 'Inference API keys, one per line (# comments). Also: env INSIGHT_API_KEYS (comma-separated).' },
  adminKeysFile: { type: 'string', default: null, nullable: true, placeholder: '<file>', help: 'Admin API keys, one per line. Also: env INSIGHT_ADMIN_KEYS (comma-separated).' },
  maxBatchSize: { type: 'int', default: 32, min: 1, max: 1024, placeholder: '<n>', help: 'Dynamic batching: most instances per forward pass (1 = no batching).' },
  maxQueueDelayMs: { type: 'number', default: 0, min: 0, max: 1000, placeholder: '<ms>',
    help: 'Dynamic batching: longest wait for more requests before a partial batch runs (0: run what has arrived; batches still grow while a pass runs).' },
  maxQueueSize: { type: 'int', default: 256, min: 1, placeholder: '<n>', help: 'Instances waiting per model; beyond it requests get 503 + Retry-After.' },
  timeoutMs: { type: 'int', default: 10000, min: 1, placeholder: '<ms>', help: 'Per-request inference timeout (queue wait + forward pass); 504 after it.' },
  maxInstances: { type: 'int', default: 64, min: 1, placeholder: '<n>', help: 'Most instances (images) in one request.' },
  bodyLimitMb: { type: 'number', default: 16, min: 0.001, max: 1024, placeholder: '<mb>', help: 'Largest request body (and multipart file), in MiB; 413 beyond it.' },
  maxImagePixels: { type: 'int', default: 25_000_000, min: 1, placeholder: '<n>', help: 'Largest width x height of an uploaded image, checked before decoding (decompression bombs).' },
  rateLimit: { type: 'number', default: 100, min: 0, placeholder: '<rps>', help: 'Requests/s per API key (per client address without keys), token bucket, per worker; 0 = off.' },
  rateBurst: { type: 'int', default: 200, min: 1, placeholder: '<n>', help: 'Token bucket size: requests a key may send at once.' },
  pollMs: { type: 'int', default: 2000, min: 0, placeholder: '<ms>', help: 'Repository poll interval for hot reload (a new version must be unchanged for one interval); 0 = off.' },
  keepVersions: { type: 'int', default: 1, min: 1, max: 100, placeholder: '<n>', help: 'Serve the <n> highest versions of each model (the highest is the default).' },
  workers: { type: 'int', default: 1, min: 1, max: 64, placeholder: '<n>', help: 'Worker processes (node:cluster), each with its own copy of the models, sharing the port.' },
  computeThreads: { type: 'int', default: null, nullable: true, min: 1, max: 256, placeholder: '<n>',
    help: 'libtorch threads per worker. Default: INSIGHT_TORCH_THREADS, else cores / workers - 1 (at least 1): one core stays free for HTTP and JSON.' },
  topK: { type: 'int', default: 5, min: 1, placeholder: '<k>', help: 'Default number of classes returned by :classify-image (query ?top_k= overrides).' },
  backend: { type: 'enum', default: 'auto', values: ['auto', 'torch', 'cpu'], placeholder: '<name>', help: 'Compute backend (as for train).' },
  logLevel: { type: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], placeholder: '<level>', help: 'JSON log level (stdout).' },
  shutdownTimeoutMs: { type: 'int', default: 30000, min: 0, placeholder: '<ms>', help: 'On SIGTERM/SIGINT, wait this long for in-flight requests before exiting anyway.' },
};

/** Validates a serve config (library object, config file, flags); `models` is required. */
export function resolveServeConfig(input: unknown): ServeConfig {
  const config = validateConfig<ServeConfig & { models: string | null }>(SERVE_SCHEMA, input, 'serve config');
  if (config.models === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'serve needs a model repository.', { models: null },
      'Pass --models <dir>, a folder of <model>/<version>/ model directories (e.g. models/seed-cnn/1/model.json).');
  }
  if (config.maxInstances > config.maxQueueSize) {
    throw ruleError('INSIGHT_E_CONFIG', 'maxInstances must be <= maxQueueSize (a request must fit in the queue).',
      { maxInstances: config.maxInstances, maxQueueSize: config.maxQueueSize }, 'Raise --max-queue-size or lower --max-instances.');
  }
  return config as ServeConfig;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
