// Helpers every inference route uses: URL parameters, body type checks, and running instances through a model
// version's batcher while holding its lease.
import type { FastifyRequest } from 'fastify';

import { serveError } from '../../errors';
import type { ServeContext } from '../http/context';
import { assembleInput, type Instance } from '../inputs/instances';
import type { BatchOutput } from '../batching/batcher';
import type { Servable } from '../repository/servable';

/** A URL's version segment ('3') as a number; undefined when absent. */
export function parseVersion(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(raw)) {
    throw serveError('SERVE_E_BAD_INPUT', 'A model version in the URL must be a positive integer.', { version: raw },
      'Use e.g. /v1/models/<model>/versions/2, or omit /versions/<v> for the default version.');
  }
  return Number(raw);
}

/**
 * A KServe v2 URL's version string. Versions are strings in the protocol and ours are the decimal names of version
 * folders, as GET /v2/models/{m} advertises them ('3'); any other string ('v3', '03') names no version: 404 (after
 * the model's own 404), with the versions served.
 */
export function parseV2Version(ctx: ServeContext, model: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (/^[1-9]\d{0,15}$/.test(raw)) return Number(raw);
  ctx.repository.versionStatuses(model); // SERVE_E_MODEL_NOT_FOUND first
  const served = ctx.repository.snapshot().find((m) => m.name === model)?.servingVersions ?? [];
  throw serveError('SERVE_E_VERSION_NOT_FOUND', 'A version in the URL must be one the model advertises: the decimal name of a served version.',
    { model, version: raw.slice(0, 64), served: served.map(String) },
    'Use one of the "versions" of GET /v2/models/<model>, or omit /versions/<v> for the default (highest) one.');
}

/** The JSON body of a JSON route; image or multipart bodies are 415. */
export function jsonBody(request: FastifyRequest, example: string): unknown {
  if (Buffer.isBuffer(request.body) || request.isMultipart()) {
    throw serveError('SERVE_E_UNSUPPORTED_MEDIA', 'This route takes a JSON body (Content-Type: application/json).',
      { 'content-type': request.headers['content-type'] ?? null },
      `Send ${example}; to upload image files, POST them to /v1/models/<model>:classify-image.`);
  }
  if (request.body === undefined || request.body === null) {
    throw serveError('SERVE_E_BAD_INPUT', 'This route needs a JSON body.', { body: null }, `Send ${example} with Content-Type: application/json.`);
  }
  return request.body;
}

/** Runs `fn` with the servable for (model, version) leased: it cannot be disposed while `fn` runs. */
export async function withServable<T>(ctx: ServeContext, model: string, version: number | undefined, fn: (s: Servable) => Promise<T>): Promise<T> {
  if (ctx.lifecycle.shuttingDown) {
    throw serveError('SERVE_E_SHUTTING_DOWN', 'A server that is shutting down takes no new inference work.', { model },
      'Retry against another replica, or after the restart.', { retryAfter: 1 });
  }
  const servable = ctx.repository.acquire(model, version);
  try {
    return await fn(servable);
  } finally {
    servable.release();
  }
}

/** Preprocesses `instances` for `servable` and runs them through its batcher. */
export async function infer(ctx: ServeContext, servable: Servable, instances: Instance[]): Promise<BatchOutput> {
  const x = await assembleInput(instances, { inputShape: servable.inputShape, normalizationLut: servable.normalizationLut, maxImagePixels: ctx.config.maxImagePixels });
  return servable.infer(x, instances.length);
}

/** Row i of a [rows, cols] row-major matrix as a plain array. */
export function row(values: Float32Array, cols: number, i: number): number[] {
  return Array.from(values.subarray(i * cols, (i + 1) * cols));
}

/** Rows of a [rows, cols] matrix as nested arrays. */
export function rows(values: Float32Array, cols: number): number[][] {
  return Array.from({ length: values.length / cols }, (_, i) => row(values, cols, i));
}
