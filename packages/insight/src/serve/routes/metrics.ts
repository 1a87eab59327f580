// GET /metrics: Prometheus text format (any API key; open on a server without keys). With --workers N the
// answer aggregates every worker (counters and histograms summed).
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../http/context';

export function metricsRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'GET', url: '/metrics', config: { scope: 'inference' },
    handler: async (_request, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metricsText()),
  }];
}
