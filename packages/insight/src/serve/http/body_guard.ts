// Request bodies, guarded before they are read in full:
//   - a declared Content-Length over --body-limit-mb is 413 at once, for every content type (multipart included);
//   - a large body (over LARGE_BODY bytes, or chunked) waits for room in the BodyBudget before it is read;
//   - a JSON body fails as soon as it holds more numbers than any valid request can (json_number_budget.ts);
//   - an answer sent before the body was read in full (a 413, a multipart limit) either drains the rest of a body
//     whose declared length is within the body limit, so a kept-alive connection can carry the next request, or
//     closes the connection (chunked or larger bodies): the next request never waits behind unread bytes.
import type { FastifyReply, FastifyRequest } from 'fastify';

import { serveError } from '../../errors';
import { BodyBudget } from '../limits/body_budget';
import { jsonNumberBudget } from '../limits/json_number_budget';
import type { ServeContext } from './context';

/** Bodies up to this size skip the budget (JSON inference requests are mostly well under it). */
const LARGE_BODY = 256 * 1024;
/** Numbers a JSON body may hold beyond --max-instances × the largest model input (shapes, parameters). */
const NUMBER_SLACK = 4096;
/** The model input size assumed while no model is loaded (224 × 224 × 3). */
const DEFAULT_ROW = 224 * 224 * 3;

function declaredLength(request: FastifyRequest): number | null {
  const value = request.headers['content-length'];
  return value === undefined || !/^\d+$/.test(value) ? null : Number(value);
}

function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || (declaredLength(request) ?? 0) > 0;
}

/** The most numbers a JSON body may carry: --max-instances × the largest served input, plus NUMBER_SLACK. */
function jsonNumberLimit(ctx: ServeContext): number {
  const rows = ctx.repository.servables().map((s) => s.inputShape.reduce((a, b) => a * b, 1));
  return ctx.config.maxInstances * (rows.length === 0 ? DEFAULT_ROW : Math.max(...rows)) + NUMBER_SLACK;
}

/** onRequest (after auth): a declared Content-Length over the body limit is refused before any byte is read. */
export function declaredLengthCheck(bodyLimit: number) {
  return async (request: FastifyRequest): Promise<void> => {
    const length = declaredLength(request);
    if (length !== null && length > bodyLimit) {
      throw serveError('SERVE_E_PAYLOAD_TOO_LARGE', `A request body (or uploaded file) may be at most --body-limit-mb (${bodyLimit} bytes).`,
        { 'content-length': String(length) }, 'Send fewer or smaller images per request (or resize them), or raise --body-limit-mb.');
    }
  };
}

/** The preParsing and release hooks of the body budget and the JSON number check. */
export function bodyGuard(ctx: ServeContext, bodyLimit: number) {
  const budget = new BodyBudget(2 * bodyLimit);
  const held = new WeakMap<FastifyRequest, { release: (() => void) | null; finished: boolean }>();
  const finish = async (request: FastifyRequest) => {
    const entry = held.get(request);
    if (entry === undefined) return;
    entry.finished = true;
    entry.release?.();
  };
  const preParsing = async (request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream & { receivedEncodedLength?: number }) => {
    if (!hasBody(request)) return payload;
    const length = declaredLength(request);
    if (length === null || length > LARGE_BODY) {
      const entry: { release: (() => void) | null; finished: boolean } = { release: null, finished: false };
      held.set(request, entry);
      const release = await budget.acquire(length ?? bodyLimit);
      if (entry.finished) release();
      else entry.release = release;
    }
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) return payload;
    const limit = jsonNumberLimit(ctx);
    // A JSON text of n bytes holds at most (n + 1) / 2 numbers ("1,1,1"): a body declared that small needs no count.
    if (length !== null && (length + 1) / 2 <= limit) return payload;
    const counted = jsonNumberBudget(limit, (count) => serveError('SERVE_E_PAYLOAD_TOO_LARGE',
      'A JSON body may hold at most --max-instances × the largest model input numbers (plus a few for shapes and parameters).',
      { numbers: `> ${count - 1}`, limit }, 'Send fewer instances per request, or images as {"b64": ...} or raw bytes.'));
    counted.on('error', () => payload.unpipe(counted));
    return payload.pipe(counted);
  };
  return { budget, preParsing, finish };
}

/**
 * For an answer sent before the request body was read in full: drains the rest when the declared length is
 * within `bodyLimit` (the connection stays usable), else marks the answer `Connection: close`.
 */
export function settleUnreadBody(request: FastifyRequest, reply: FastifyReply, bodyLimit: number): void {
  const raw = request.raw;
  if (raw.complete || raw.destroyed || !hasBody(request)) return;
  const length = declaredLength(request);
  if (length === null || length > bodyLimit) reply.header('connection', 'close');
  raw.unpipe();
  raw.resume();
}
