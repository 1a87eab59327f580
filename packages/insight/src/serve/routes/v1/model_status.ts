// TF Serving model status: GET /v1/models/{model} and GET /v1/models/{model}/versions/{version} →
//   {"model_version_status": [{"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
// A version whose last load failed reports error_code "UNKNOWN" with the reason (state END, or AVAILABLE when an
// older copy of it still serves). A GET on a method URL (:predict, :explain, ... — verbs.ts) is told to POST.
import type { RouteOptions } from 'fastify';

import { serveError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import type { VersionStatus } from '../../repository/repository';
import { parseVersion } from '../shared';
import { VERBS } from './verbs';

type Params = { model: string; version?: string };

export function modelStatusRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: { params: unknown }) => {
    const { model, version } = request.params as Params;
    if (version === undefined && model.includes(':')) {
      throw serveError('SERVE_E_NOT_FOUND', `TF Serving methods (${Object.keys(VERBS).map((verb) => `:${verb}`).join(', ')}) take POST.`, { method: 'GET', path: `/v1/models/${model}` },
        'Send a POST with the body, or GET /v1/models/<model> for the status.');
    }
    return { model_version_status: ctx.repository.versionStatuses(model, parseVersion(version)).map(tfServingStatus) };
  };
  return [
    { method: 'GET', url: '/v1/models/:model', config: { scope: 'inference' }, handler },
    { method: 'GET', url: '/v1/models/:model/versions/:version', config: { scope: 'inference' }, handler },
  ];
}

export function tfServingStatus(s: VersionStatus) {
  return {
    version: String(s.version),
    state: s.state,
    status: { error_code: s.error === null ? 'OK' : 'UNKNOWN', error_message: s.error ?? '' },
  };
}
