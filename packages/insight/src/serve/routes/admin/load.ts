// Admin: POST /admin/models/{model}/load [{"version": n}] → serve the model again after an unload, following its
// latest versions; with "version", pin that version (a rollback) until the next load without one. Answers the
// model's snapshot once loaded (on every worker), or SERVE_E_LOAD_FAILED with the reason (the served version stays).
import type { FastifyRequest, RouteOptions } from 'fastify';

import { serveError, typeOf } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { checkKeys, requireObject } from '../../inputs/json_checks';
import { jsonBody } from '../shared';

export function adminLoadRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'POST', url: '/admin/models/:model/load', config: { scope: 'admin' },
    handler: async (request: FastifyRequest) => {
      const { model } = request.params as { model: string };
      return ctx.admin.run({ action: 'load', model, version: parseLoadBody(request) });
    },
  }];
}

function parseLoadBody(request: FastifyRequest): number | null {
  if (request.body === undefined || request.body === null) return null;
  const body = requireObject(jsonBody(request, '{"version": 2}'), 'The body of load', '{"version": 2} or no body');
  checkKeys(body, ['version'], 'The body of load');
  if (body.version === undefined || body.version === null) return null;
  if (!Number.isInteger(body.version) || (body.version as number) < 1) {
    throw serveError('SERVE_E_BAD_INPUT', '"version" must be a positive integer (a version directory on disk).', { version: typeOf(body.version) === 'number' ? body.version : typeOf(body.version) },
      'Send {"version": 2}, or no body to follow the latest versions.');
  }
  return body.version as number;
}
