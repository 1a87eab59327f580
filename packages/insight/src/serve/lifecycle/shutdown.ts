// Graceful shutdown, in two steps:
//   1. Drain (up to --drain-ms, ending early once no client connection is left): readiness turns false at once,
//      the listener stays open, every response carries `Connection: close` and new inference work gets 503
//      SERVE_E_SHUTTING_DOWN, so a client that writes on a kept-alive connection gets an answer (never a reset) and
//      then opens its next connection elsewhere; requests already received finish (their batches run).
//   2. Close: the listener closes, idle connections close, the last in-flight requests finish, models are disposed.
// The whole stop is bounded by `timeoutMs` (--shutdown-timeout-ms); after it the remaining connections are cut.
// A gRPC server beside (--grpc-port) stops taking calls at once (GOAWAY: gRPC's own drain signal, clients open their
// next call elsewhere; calls arriving before it get UNAVAILABLE SHUTTING_DOWN); its calls in flight finish within the
// same bound, then it is forced. Models are disposed once both are closed.
// Signals (SIGTERM, SIGINT) start it once; a second signal is ignored while it runs.
import type { Server } from 'node:http';

import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';

import { closeGrpc } from '../grpc/server';
import type { ServeContext } from '../http/context';

/** How often the drain looks whether every client connection has closed. */
const DRAIN_POLL_MS = 25;

/** Stops `app` gracefully; resolves true when everything finished within `timeoutMs`. */
export async function shutdown(app: FastifyInstance, ctx: ServeContext, timeoutMs: number, grpc: GrpcServer | null = null): Promise<boolean> {
  ctx.lifecycle.shuttingDown = true;
  const deadline = performance.now() + timeoutMs;
  const grpcClosed = grpc === null ? Promise.resolve(true) : closeGrpc(grpc, timeoutMs);
  const drainMs = Math.min(ctx.config.drainMs, timeoutMs);
  app.log.info({ drainMs, timeoutMs }, 'shutting down: finishing in-flight requests');
  const left = await drain(app.server, drainMs);
  app.log.info({ openConnections: left }, 'drain over: closing the listener');
  let timer: NodeJS.Timeout | undefined;
  const finished = (async () => {
    await app.close();
    const grpcInTime = await grpcClosed;
    await ctx.repository.close();
    return grpcInTime;
  })().catch((error: unknown) => {
    app.log.error({ err: error }, 'shutdown failed');
    return false;
  });
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
  });
  const inTime = await Promise.race([finished, expired]);
  clearTimeout(timer);
  if (!inTime) {
    app.log.warn({ timeoutMs }, 'shutdown timed out; closing the remaining connections');
    app.server.closeAllConnections();
  } else {
    app.log.info('shut down');
  }
  return inTime;
}

/**
 * Waits until `server` has no open connection or `windowMs` passed; resolves with the connections still open.
 * Connections close by themselves meanwhile: each response during shutdown says `Connection: close`.
 */
export async function drain(server: Server, windowMs: number): Promise<number> {
  const end = performance.now() + windowMs;
  for (;;) {
    const open = await connectionCount(server);
    if (open === 0 || performance.now() >= end) return open;
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, Math.max(1, end - performance.now()))));
  }
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.getConnections((error, count) => resolve(error ? 0 : count));
  });
}

/** Runs `stop` on the first SIGTERM or SIGINT. Returns a function that removes the handlers. */
export function onTerminationSignal(stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
