// KServe v2 model readiness: GET /v2/models/{model}[/versions/{version}]/ready →
// 200 {"name", "ready": true} when that (or the default) version is loaded, 503 {"name", "ready": false} when the
// model exists but has no loaded version; unknown models and versions are 404 like everywhere else.
import type { RouteOptions } from 'fastify';

import { ServeError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { parseV2Version } from '../shared';

type Params = { model: string; version?: string };

/**
 * Whether `model` at `version` (undefined: the default one) is loaded: false when the model has no loaded version;
 * unknown models and versions throw their NOT_FOUND errors. This route and gRPC's ModelReady answer it.
 */
export function v2ModelReady(ctx: ServeContext, model: string, version: string | undefined): boolean {
  try {
    ctx.repository.resolve(model, parseV2Version(ctx, model, version));
    return true;
  } catch (error) {
    if (error instanceof ServeError && error.code === 'SERVE_E_MODEL_UNAVAILABLE') return false;
    throw error;
  }
}

export function v2ModelReadyRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: { params: unknown }, reply: { code(n: number): { send(body: unknown): unknown } }) => {
    const { model, version } = request.params as Params;
    const ready = v2ModelReady(ctx, model, version);
    return reply.code(ready ? 200 : 503).send({ name: model, ready });
  };
  return [
    { method: 'GET', url: '/v2/models/:model/ready', config: { scope: 'inference' }, handler },
    { method: 'GET', url: '/v2/models/:model/versions/:version/ready', config: { scope: 'inference' }, handler },
  ];
}
