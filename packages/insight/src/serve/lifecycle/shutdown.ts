// Graceful shutdown: readiness turns false and new inference work is refused (503, Connection: close), the
// listener closes, requests already received finish (their batches run), models are disposed; after
// `timeoutMs` remaining connections are cut. Signals (SIGTERM, SIGINT) start it once; a second signal is
// ignored while it runs.
import type { FastifyInstance } from 'fastify';

import type { ServeContext } from '../http/context';

/** Stops `app` gracefully; resolves true when everything finished in time. */
export async function shutdown(app: FastifyInstance, ctx: ServeContext, timeoutMs: number): Promise<boolean> {
  ctx.lifecycle.shuttingDown = true;
  app.log.info({ timeoutMs }, 'shutting down: finishing in-flight requests');
  let timer: NodeJS.Timeout | undefined;
  const finished = (async () => {
    await app.close();
    await ctx.repository.close();
    return true;
  })().catch((error: unknown) => {
    app.log.error({ err: error }, 'shutdown failed');
    return false;
  });
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
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
