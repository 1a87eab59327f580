// Health probes (no key needed; KServe v2 paths, usable as Kubernetes liveness/readiness probes):
//   GET /v2/health/live  → 200 {"live": true} while the process serves HTTP
//   GET /v2/health/ready → 200 {"ready": true} once the initial load is done and a model version is loaded;
//                          503 {"ready": false} before that and during shutdown
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../http/context';

/** Ready for inference: the initial load is done and the server is not shutting down (also gRPC's ServerReady). */
export function serverReady(ctx: ServeContext): boolean {
  return !ctx.lifecycle.shuttingDown && ctx.repository.isReady();
}

export function healthRoutes(ctx: ServeContext): RouteOptions[] {
  return [
    {
      method: 'GET', url: '/v2/health/live', config: { scope: 'public' },
      handler: async () => ({ live: true }),
    },
    {
      method: 'GET', url: '/v2/health/ready', config: { scope: 'public' },
      handler: async (_request, reply) => {
        const ready = serverReady(ctx);
        return reply.code(ready ? 200 : 503).send({ ready });
      },
    },
  ];
}
