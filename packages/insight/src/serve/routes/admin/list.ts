// Admin: GET /admin/models → {"models": [{name, servingVersions, diskVersions, pinnedVersion, unloaded,
// versions: [{version, state, error}]}], "workers": n}. Load failures show here with their reason.
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';

export function adminListRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'GET', url: '/admin/models', config: { scope: 'admin' },
    handler: async () => ctx.admin.run({ action: 'list' }),
  }];
}
