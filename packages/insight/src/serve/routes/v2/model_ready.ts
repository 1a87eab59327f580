// KServe v2 model readiness: GET /v2/models/{model}[/versions/{version}]/ready →
// 200 {"name", "ready": true} when that (or the default) version is loaded, 503 {"name", "ready": false} when the
// model exists but has no loaded version; unknown models and versions are 404 like everywhere else.
import type { RouteOptions } from 'fastify';

import { ServeError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { parseV2Version } from '../shared';

type Params = { model: string; version?: string };

export function v2ModelReadyRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: { params: unknown }, reply: { code(n: number): { send(body: unknown): unknown } }) => {
    const { model, version } = request.params as Params;
    try {
      ctx.repository.resolve(model, parseV2Version(ctx, model, version));
      return reply.code(200).send({ name: model, ready: true });
    } catch (error) {
      if (error instanceof ServeError && error.code === 'SERVE_E_MODEL_UNAVAILABLE') return reply.code(503).send({ name: model, ready: false });
      throw error;
    }
  };
  return [
    { method: 'GET', url: '/v2/models/:model/ready', config: { scope: 'inference' }, handler },
    { method: 'GET', url: '/v2/models/:model/versions/:version/ready', config: { scope: 'inference' }, handler },
  ];
}
