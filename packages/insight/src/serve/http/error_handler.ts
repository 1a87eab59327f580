// Every failure becomes a ServeError answered as {"error": message, "code": code} — the shape TF Serving and
// KServe clients read ("error") plus our stable code — with Retry-After where it applies. Errors raised by
// fastify itself (bad URL, long path segment, body limit, content type, Content-Length) and by @fastify/multipart
// are translated to our codes with the same rule + Received + fix messages, never echoing the URL. Anything
// unexpected is SERVE_E_INTERNAL: logged with its stack, answered without internals but with the request id.
// Answers never carry this machine's absolute paths (the model repository, the temp and home folders become
// <models>, <tmp>, <home>), and the log gets the rule and code only (the Received part may quote the payload;
// --log-level debug adds it).
import * as os from 'node:os';
import * as path from 'node:path';

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { ServeError, serveError } from '../../errors';
import { IMAGE_CONTENT_TYPES, MULTIPART_FIELDS } from '../inputs/upload';
import { settleUnreadBody } from './body_guard';

export interface ErrorHandlerOptions {
  bodyLimit: number;
  /** The model repository (as configured): shown as <models> in answers. */
  models: string;
}

/** Replaces absolute paths under the repository, the temp folder, the home folder and the working directory. */
export function hidePaths(text: string, models: string): string {
  const roots: [string, string][] = [[path.resolve(models), '<models>'], [os.tmpdir(), '<tmp>'], [os.homedir(), '<home>'], [process.cwd(), '.']];
  let out = text;
  for (const [root, label] of roots.sort((a, b) => b[0].length - a[0].length)) {
    if (root.length > 1) out = out.split(root).join(label);
  }
  return out;
}

/** Translates any thrown value into the ServeError to answer with. */
export function toServeError(error: unknown, request: FastifyRequest, bodyLimit: number): ServeError {
  if (error instanceof ServeError) return error;
  const e = error as FastifyError & { code?: string };
  const contentType = request.headers['content-type'] ?? null;
  switch (e.code) {
    case 'FST_ERR_BAD_URL':
      return serveError('SERVE_E_BAD_INPUT', 'The URL path must be valid percent-encoded UTF-8.', { path: `<${request.url.split('?')[0].length} characters, not shown>` },
        'Percent-encode names in the URL (e.g. encodeURIComponent).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return serveError('SERVE_E_URI_TOO_LONG', 'A URL path segment (model name, version) may be at most 100 characters.',
        { path: `<${request.url.split('?')[0].length} characters, not shown>` }, 'Use the model\'s name as GET /v1/models or the repository lists it.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return serveError('SERVE_E_PAYLOAD_TOO_LARGE', `A request body (or uploaded file) may be at most --body-limit-mb (${bodyLimit} bytes).`,
        { 'content-length': request.headers['content-length'] ?? null }, 'Send fewer or smaller images per request (or resize them), or raise --body-limit-mb.');
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return serveError('SERVE_E_PAYLOAD_TOO_LARGE', `A multipart upload may have at most --max-instances files and ${MULTIPART_FIELDS} other fields.`,
        { limit: e.code === 'FST_FILES_LIMIT' ? 'files' : e.code === 'FST_FIELDS_LIMIT' ? 'fields' : 'parts' }, 'Split the images over several requests.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return serveError('SERVE_E_UNSUPPORTED_MEDIA', `The Content-Type must be application/json, multipart/form-data or one of ${IMAGE_CONTENT_TYPES.join(', ')}.`,
        { 'content-type': contentType }, 'Send JSON with Content-Type: application/json, or image bytes with their image type.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return serveError('SERVE_E_BAD_INPUT', 'The Content-Length header must match the body.', { 'content-length': request.headers['content-length'] ?? null },
        'Let the HTTP client set Content-Length.');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Malformed multipart bodies, bad headers and the like.
    return serveError('SERVE_E_BAD_INPUT', 'The request must be well-formed.', { error: e.message }, 'Check the body against its Content-Type.');
  }
  return serveError('SERVE_E_INTERNAL', 'The server failed unexpectedly while answering.', { requestId: request.id },
    'Retry; if it persists, report it with the request id (the log has the details).', { cause: error });
}

/** The fastify error handler (also for errors before routing). */
export function errorHandler({ bodyLimit, models }: ErrorHandlerOptions) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const serve = toServeError(error, request, bodyLimit);
    if (serve.code === 'SERVE_E_INTERNAL') request.log.error({ err: error }, 'internal error');
    else {
      request.log.info({ code: serve.code, status: serve.httpStatus }, serve.message.split(' Received: ')[0]);
      request.log.debug({ code: serve.code }, serve.message);
    }
    if (serve.retryAfter !== undefined) reply.header('retry-after', String(serve.retryAfter));
    settleUnreadBody(request, reply, bodyLimit);
    return reply.code(serve.httpStatus).type('application/json; charset=utf-8').send({ error: hidePaths(serve.message, models), code: serve.code });
  };
}

/** The fastify not-found handler (unknown path or method). */
export function notFoundHandler(bodyLimit: number) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    settleUnreadBody(request, reply, bodyLimit);
    return notFound(request, reply);
  };
}

function notFound(request: FastifyRequest, reply: FastifyReply) {
  const error = serveError('SERVE_E_NOT_FOUND', 'The request must address one of the server\'s routes.',
    { method: request.method, path: request.url.split('?')[0].slice(0, 200) },
    'See the route list in the README (e.g. POST /v1/models/<model>:predict, POST /v2/models/<model>/infer).');
  return reply.code(404).send({ error: error.message, code: error.code });
}
