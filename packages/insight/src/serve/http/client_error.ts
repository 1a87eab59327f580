// Errors Node's HTTP parser raises before fastify sees a request (a request not received within
// --request-timeout-ms, headers over the 16 KiB limit, bytes that are not HTTP) answered in the house shape
// {"error", "code"} with the status's own reason phrase, then the connection closes (its stream is unusable).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { type ServeError, serveError } from '../../errors';

/** Node's default limit on the request line plus headers (http.maxHeaderSize). */
const MAX_HEADER_BYTES = 16 * 1024;

/** A request not received within --request-timeout-ms (also a gRPC call's message: grpc/service.ts). */
export function requestTimeoutError(requestTimeoutMs: number): ServeError {
  return serveError('SERVE_E_REQUEST_TIMEOUT', `A client must send its whole request within --request-timeout-ms (${requestTimeoutMs} ms).`,
    { requestTimeoutMs }, 'Send the body at once (slow networks: raise --request-timeout-ms).');
}

/** The ServeError for one of Node's client errors. */
function clientErrorOf(error: NodeJS.ErrnoException, requestTimeoutMs: number): ServeError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestTimeoutError(requestTimeoutMs);
    case 'HPE_HEADER_OVERFLOW':
      return serveError('SERVE_E_HEADERS_TOO_LARGE', `The request line and headers may be at most ${MAX_HEADER_BYTES / 1024} KiB.`,
        { limitBytes: MAX_HEADER_BYTES }, 'Send shorter headers and URL (inputs go in the body).');
    default:
      return serveError('SERVE_E_BAD_INPUT', 'A request must be well-formed HTTP/1.1.', { error: error.code ?? 'parse error' },
        'Use an HTTP client (curl, requests, fetch).');
  }
}

/** fastify's clientErrorHandler option. */
export function clientErrorHandler(requestTimeoutMs: number) {
  return function onClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    // A reset connection, or an answer already under way: nothing can be written.
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const serve = clientErrorOf(error, requestTimeoutMs);
    this.log.info({ code: serve.code, status: serve.httpStatus }, serve.message.split(' Received: ')[0]);
    const body = JSON.stringify({ error: serve.message, code: serve.code });
    socket.end(`HTTP/1.1 ${serve.httpStatus} ${STATUS_CODES[serve.httpStatus]}\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
  };
}
