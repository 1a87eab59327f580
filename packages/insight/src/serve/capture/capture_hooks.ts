// Sampled request capture (--capture-rate, --capture-dir): for a share of the inference requests (POST
// /v1/models/... and /v2/models/.../infer) one JSON line is written with the time, model, version, route, status,
// the SHA-256 and size of the request body, the prediction (the response body when it is JSON and the status
// 200) and the latency. The body itself is stored (base64) only with --capture-raw. Requests refused for their
// sender (401, 403, 429) are never recorded: the hooks run before authentication decides. The hash is computed while the
// body streams in (a preParsing pass-through), the record is written after the response (onResponse), and the
// file work is the CaptureWriter's, off the hot path.
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { ServeConfig } from '../config';
import { CaptureWriter } from './capture_writer';

/** What the capture hooks need from the server. */
export interface CaptureSources {
  /** The version a request without one was served by (the model's default), or null if unknown. */
  defaultVersion(model: string): number | string | null;
}

interface Sampled {
  startMs: number;
  hash: Hash;
  bytes: number;
  raw: Buffer[] | null;
  prediction?: unknown;
}

const INFERENCE_ROUTES = new Set(['/v1/models/:target', '/v1/models/:model/versions/:target', '/v2/models/:model/infer', '/v2/models/:model/versions/:version/infer']);
/** Answers to who sent the request (no key, a wrong key, a cross-site origin, throttled): never captured, raw or hashed. */
const REFUSED_SENDER = new Set([401, 403, 429]);

/**
 * Adds the capture hooks to `app` when config.captureRate > 0; returns the writer (null when capture is off).
 * `random` decides the sampling (default Math.random).
 */
export function installCapture(app: FastifyInstance, config: ServeConfig, sources: CaptureSources, random: () => number = Math.random): CaptureWriter | null {
  if (config.captureRate <= 0 || config.captureDir === null) return null;
  const writer = new CaptureWriter({ dir: config.captureDir, retentionHours: config.captureRetentionHours },
    (error) => app.log.warn({ err: { message: error.message } }, 'request capture: a write failed; its records are dropped'));
  const sampled = new WeakMap<FastifyRequest, Sampled>();
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' || !INFERENCE_ROUTES.has(request.routeOptions.url ?? '') || random() >= config.captureRate) return;
    sampled.set(request, { startMs: performance.now(), hash: createHash('sha256'), bytes: 0, raw: config.captureRaw ? [] : null });
  });
  app.addHook('preParsing', async (request, _reply, payload) => {
    const s = sampled.get(request);
    if (s === undefined) return payload;
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        s.hash.update(chunk);
        s.bytes += chunk.length;
        s.raw?.push(chunk);
        done(null, chunk);
      },
    });
    return payload.pipe(tee);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const s = sampled.get(request);
    if (s !== undefined && reply.statusCode === 200 && typeof payload === 'string' && /json/.test(String(reply.getHeader('content-type') ?? ''))) {
      try {
        s.prediction = JSON.parse(payload);
      } catch {
        s.prediction = null;
      }
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const s = sampled.get(request);
    if (s === undefined) return;
    sampled.delete(request);
    if (REFUSED_SENDER.has(reply.statusCode)) return;
    const { model, version } = target(request, sources);
    writer.record({
      time: new Date().toISOString(), model, version, route: request.routeOptions.url, status: reply.statusCode,
      inputSha256: s.hash.digest('hex'), inputBytes: s.bytes, contentType: request.headers['content-type'] ?? null,
      latencyMs: Math.round((performance.now() - s.startMs) * 1000) / 1000, prediction: s.prediction ?? null,
      ...(s.raw !== null ? { input: Buffer.concat(s.raw).toString('base64') } : {}),
    });
  });
  app.addHook('onClose', async () => writer.close());
  return writer;
}

/** The model and version a request addressed ('/v1/models/m:predict' → m and its default version). */
function target(request: FastifyRequest, sources: CaptureSources): { model: string | null; version: number | string | null } {
  const params = request.params as { model?: string; version?: string; target?: string };
  const verb = params.target === undefined ? -1 : params.target.lastIndexOf(':');
  const model = params.model ?? (params.target !== undefined && verb > 0 ? params.target.slice(0, verb) : null);
  const given = params.version ?? (params.model !== undefined && params.target !== undefined && verb > 0 ? params.target.slice(0, verb) : undefined);
  if (model === null) return { model: null, version: null };
  if (given !== undefined) return { model, version: /^\d+$/.test(given) ? Number(given) : given };
  return { model, version: sources.defaultVersion(model) };
}
