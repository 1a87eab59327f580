// KServe v2 model repository extension, load and unload (admin key, like /admin/models/{m}/load and /unload, which
// they are in the protocol's shape; with --workers N they run on every worker before answering):
//   POST /v2/repository/models/{model}/load   [{"parameters": {}}]                    → {"name": "cifar", "load": true}
//   POST /v2/repository/models/{model}/unload [{"parameters": {"unload_dependents"?: bool}}] → {"name": "cifar", "unload": true}
// Load serves the model again after an unload, following its latest versions (pins are the admin API's); Triton's
// "config" and "file:" parameters, which override a model's files, are refused. Errors are the admin API's:
// SERVE_E_MODEL_NOT_FOUND, SERVE_E_LOAD_FAILED (the version served before stays).
import type { FastifyRequest, RouteOptions } from 'fastify';

import { serveError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { checkKeys, requireObject } from '../../inputs/json_checks';
import { jsonBody } from '../shared';

type Params = { model: string };

export function repositoryLoadRoutes(ctx: ServeContext): RouteOptions[] {
  return [
    {
      method: 'POST', url: '/v2/repository/models/:model/load', config: { scope: 'admin' },
      handler: async (request: FastifyRequest) => {
        const { model } = request.params as Params;
        checkParameters(request, 'load', []);
        await ctx.admin.run({ action: 'load', model, version: null });
        return { name: model, load: true };
      },
    },
    {
      method: 'POST', url: '/v2/repository/models/:model/unload', config: { scope: 'admin' },
      handler: async (request: FastifyRequest) => {
        const { model } = request.params as Params;
        checkParameters(request, 'unload', ['unload_dependents']);
        await ctx.admin.run({ action: 'unload', model });
        return { name: model, unload: true };
      },
    },
  ];
}

/** The optional body {"parameters": {...}} with only `allowed` parameters (a model has no dependents to unload). */
function checkParameters(request: FastifyRequest, what: string, allowed: string[]): void {
  if (request.body === undefined || request.body === null) return;
  const body = requireObject(jsonBody(request, '{}'), `The body of ${what}`, '{} or no body');
  checkKeys(body, ['parameters'], `The body of ${what}`);
  if (body.parameters === undefined) return;
  const unknown = Object.keys(requireObject(body.parameters, 'parameters', '{}')).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    const takes = allowed.length === 0 ? 'no parameters' : `only the parameters ${allowed.map((k) => `"${k}"`).join(', ')}`;
    throw serveError('SERVE_E_BAD_INPUT', `A ${what} takes ${takes}: model files and configuration cannot be overridden through the API.`,
      { parameters: unknown.slice(0, 5) }, `Put the files into the repository (<models>/<model>/<version>/) and ${what} again.`);
  }
}
