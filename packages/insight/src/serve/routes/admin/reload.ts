// Admin: POST /admin/models/{model}/reload → re-read the model's served versions from disk now (even if their
// files look unchanged) and retry versions that failed; each is swapped in atomically. SERVE_E_LOAD_FAILED lists
// what still fails (what served before keeps serving).
import type { FastifyRequest, RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';

export function adminReloadRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'POST', url: '/admin/models/:model/reload', config: { scope: 'admin' },
    handler: async (request: FastifyRequest) => ctx.admin.run({ action: 'reload', model: (request.params as { model: string }).model }),
  }];
}
