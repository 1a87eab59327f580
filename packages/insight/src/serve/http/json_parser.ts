// The JSON body parser. fastify's default hides why a body failed to parse; ours answers with the parser's own
// message (which says where), and refuses prototype-poisoning keys ("__proto__", "constructor"."prototype")
// however they are escaped: the raw text is scanned for "proto" first, and only then is the parsed value walked.
// The inference routes try the dense parser first (inputs/dense_json.ts), which leaves anything unusual to this one.
import type { FastifyInstance } from 'fastify';

import { serveError } from '../../errors';
import { NOT_DENSE, parseDenseJson } from '../inputs/dense_json';

/** Parses `text` as a request body. Throws SERVE_E_BAD_JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw serveError('SERVE_E_BAD_JSON', 'A request with Content-Type application/json must have a JSON body.', { body: 'empty' },
      'Send a JSON object, or drop the Content-Type header for bodyless POSTs.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw serveError('SERVE_E_BAD_JSON', 'The body must be valid JSON.', { error: (error as Error).message },
      'Check the JSON syntax (JSON has no NaN, Infinity or trailing commas).');
  }
  if (/proto/i.test(text) && hasPoisonedKey(value)) {
    throw serveError('SERVE_E_BAD_JSON', 'The body must not contain "__proto__" or "constructor.prototype" keys.', { key: '__proto__' },
      'Remove that key; no route of this server uses it.');
  }
  return value;
}

function hasPoisonedKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === 'object') stack.push(item);
      continue;
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return true;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.prototype.hasOwnProperty.call(child, 'prototype')) return true;
      stack.push(child);
    }
  }
  return false;
}

/**
 * Replaces fastify's JSON parser with ours, and drops its text/plain parser (no route takes text). Routes whose
 * config says `denseJson` for the request (the inference routes) get big numeric lists as DenseLists (inputs/dense_json.ts).
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const bytes = body as Buffer;
      const dense = request.routeOptions.config.denseJson?.(request) === true ? parseDenseJson(bytes) : NOT_DENSE;
      done(null, dense !== NOT_DENSE ? dense : parseJsonBody(bytes.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
