// Admin: POST /admin/models/{model}/unload → stop serving every version of the model (requests get
// SERVE_E_MODEL_UNAVAILABLE) until POST .../load. In-flight requests finish first. Not persisted across restarts.
import type { FastifyRequest, RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';

export function adminUnloadRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'POST', url: '/admin/models/:model/unload', config: { scope: 'admin' },
    handler: async (request: FastifyRequest) => ctx.admin.run({ action: 'unload', model: (request.params as { model: string }).model }),
  }];
}
