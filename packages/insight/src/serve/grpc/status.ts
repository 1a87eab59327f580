// The server's error codes as gRPC statuses, so a gRPC client gets the same answers a REST client does: the code
// (GRPC_STATUS), the house message (rule + Received + fix) as the status details, and our stable code in the trailing
// metadata `insight-error-code` (retry-after too, in seconds, where REST sends Retry-After). Anything that is not a
// ServeError is INTERNAL, answered without internals (the log has them, found by the request id in the message).
import { randomUUID } from 'node:crypto';

import { Metadata, status } from '@grpc/grpc-js';

import { ServeError, serveError, type ServeErrorCode } from '../../errors';
import { hidePaths } from '../http/error_handler';

/** Every SERVE_E_* code's gRPC status (the HTTP status's nearest kin, as grpc-gateway maps them back). */
export const GRPC_STATUS: Readonly<Record<ServeErrorCode, status>> = {
  SERVE_E_BAD_JSON: status.INVALID_ARGUMENT,
  SERVE_E_BAD_INPUT: status.INVALID_ARGUMENT,
  SERVE_E_BAD_IMAGE: status.INVALID_ARGUMENT,
  SERVE_E_UNSUPPORTED_MEDIA: status.INVALID_ARGUMENT,
  SERVE_E_URI_TOO_LONG: status.INVALID_ARGUMENT,
  SERVE_E_UNAUTHORIZED: status.UNAUTHENTICATED,
  SERVE_E_FORBIDDEN: status.PERMISSION_DENIED,
  SERVE_E_NOT_FOUND: status.NOT_FOUND,
  SERVE_E_MODEL_NOT_FOUND: status.NOT_FOUND,
  SERVE_E_VERSION_NOT_FOUND: status.NOT_FOUND,
  SERVE_E_REQUEST_TIMEOUT: status.DEADLINE_EXCEEDED,
  SERVE_E_TIMEOUT: status.DEADLINE_EXCEEDED,
  SERVE_E_PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  SERVE_E_IMAGE_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  SERVE_E_HEADERS_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  SERVE_E_RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  SERVE_E_OVERLOADED: status.RESOURCE_EXHAUSTED,
  SERVE_E_SHUTTING_DOWN: status.UNAVAILABLE,
  SERVE_E_MODEL_UNAVAILABLE: status.UNAVAILABLE,
  SERVE_E_LOAD_FAILED: status.INTERNAL,
  SERVE_E_INTERNAL: status.INTERNAL,
};

/** The trailing metadata key that carries our error code. */
export const ERROR_CODE_KEY = 'insight-error-code';
/** The trailing metadata key that carries Retry-After seconds (RESOURCE_EXHAUSTED and UNAVAILABLE answers). */
export const RETRY_AFTER_KEY = 'retry-after';

/** A status name as metrics and logs show it: 'OK', 'INVALID_ARGUMENT', ... */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}

/** What a unary handler answers with on failure (grpc-js's ServerErrorResponse). */
export interface GrpcFailure {
  code: status;
  details: string;
  metadata: Metadata;
  /** The ServeError it came from. */
  serve: ServeError;
}

/**
 * Any thrown value as the status to answer with. `requestId` names the call in the log for INTERNAL answers;
 * `models` is the repository root, shown as <models> in messages.
 */
export function toGrpcFailure(error: unknown, models: string, requestId: string = randomUUID()): GrpcFailure {
  const serve = error instanceof ServeError ? error
    : serveError('SERVE_E_INTERNAL', 'The server failed unexpectedly while answering.', { requestId },
      'Retry; if it persists, report it with the request id (the log has the details).', { cause: error });
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, serve.code);
  if (serve.retryAfter !== undefined) metadata.set(RETRY_AFTER_KEY, String(serve.retryAfter));
  return { code: GRPC_STATUS[serve.code], details: hidePaths(serve.message, models), metadata, serve };
}
