// Errors over HTTP: JSON `{ code, message }` with the catalogue's codes and the catalogue's HTTP status per code
// (INSIGHT_E_QUERY 400, INSIGHT_E_RUN_NOT_FOUND 404, ...). Plain HTTP conditions use the codes the inference
// server answers with: SERVE_E_NOT_FOUND for an unknown path, SERVE_E_BAD_INPUT for a malformed request,
// SERVE_E_INTERNAL for a bug.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { InsightError, ruleError } from '../../errors';

/** Any thrown value as the InsightError to answer with. */
function toHttpError(error: unknown, request: FastifyRequest): InsightError {
  if (error instanceof InsightError) return error;
  const status = (error as FastifyError).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return ruleError('SERVE_E_BAD_INPUT', 'A dashboard request must be well-formed.', { url: request.url, error: message }, 'Reload the page.');
  }
  return ruleError('SERVE_E_INTERNAL', 'The dashboard failed unexpectedly while answering.', { requestId: request.id, error: message },
    'Reload the page; if it persists, report it with this message.', { cause: error });
}

/** Sends `error` as `{ code, message }` with its code's status. */
function sendError(reply: FastifyReply, error: InsightError): FastifyReply {
  return reply.status(error.httpStatus).send({ code: error.code, message: error.message });
}

/** fastify's `frameworkErrors` option: errors raised before routing (e.g. a malformed URL) answered the same way. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, toHttpError(error, request));
}

/** Installs the JSON error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    void sendError(reply, toHttpError(error, request));
  });
  app.setNotFoundHandler((request, reply) => {
    void sendError(reply, ruleError('SERVE_E_NOT_FOUND', 'No such page or API endpoint.', { url: request.url }, 'Open / for the dashboard.'));
  });
}
