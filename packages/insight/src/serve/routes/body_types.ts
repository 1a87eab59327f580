// Route hooks for bodies whose Content-Type does not say how they parse, as other servers accept them. Each rewrites
// the request's Content-Type before the body is read, so the server's own parsers (and their limits) do the reading:
//   - TF Serving reads every body as JSON: its REST docs use `curl -d '{"instances": ...}'`, which sends
//     application/x-www-form-urlencoded → read as application/json.
//   - A KServe v2 binary body (header Inference-Header-Content-Length) is JSON + raw tensor bytes whatever its
//     Content-Type (Triton's client sends none) → read as application/octet-stream (a Buffer).
import type { FastifyRequest } from 'fastify';

import { BINARY_HEADER } from '../inputs/binary_tensors';

const FORM = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i;

/** onRequest hook: a form-encoded body is JSON (TF Serving's rule). */
export async function formBodyAsJson(request: FastifyRequest): Promise<void> {
  const type = request.raw.headers['content-type'];
  if (type !== undefined && FORM.test(type)) request.raw.headers['content-type'] = 'application/json';
}

/** onRequest hook: a body with Inference-Header-Content-Length is binary tensor data. */
export async function binaryTensorBody(request: FastifyRequest): Promise<void> {
  if (request.raw.headers[BINARY_HEADER] !== undefined) request.raw.headers['content-type'] = 'application/octet-stream';
}
