// TF Serving's custom-method URLs, `/v1/models/{model}[/versions/{version}]:{verb}`. The router cannot split a
// path segment at ':' with a dash-named verb after it, so one route per URL shape takes the last segment and
// dispatches on the verb (split at the last ':'); each verb is its own handler file.
import type { FastifyRequest, RouteOptions } from 'fastify';

import { serveError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { formBodyAsJson } from '../body_types';
import { parseVersion } from '../shared';
import { classifyVerb } from './classify';
import { classifyImageVerb } from './classify_image';
import { explainVerb } from './explain';
import { predictVerb } from './predict';

export interface VerbTarget {
  model: string;
  version: number | undefined;
}

type VerbHandler = (ctx: ServeContext, request: FastifyRequest, target: VerbTarget) => Promise<object>;

/** The verbs, registered from one list. */
export const VERBS: Record<string, VerbHandler> = {
  predict: predictVerb,
  classify: classifyVerb,
  'classify-image': classifyImageVerb,
  explain: explainVerb,
};

export function verbRoutes(ctx: ServeContext): RouteOptions[] {
  const dispatch = (versioned: boolean) => async (request: FastifyRequest) => {
    const params = request.params as { model?: string; target: string };
    const colon = params.target.lastIndexOf(':');
    const verb = colon < 0 ? '' : params.target.slice(colon + 1);
    const handler = Object.prototype.hasOwnProperty.call(VERBS, verb) ? VERBS[verb] : undefined;
    if (handler === undefined) {
      throw serveError('SERVE_E_NOT_FOUND', `A TF Serving URL must end in :<method> with method one of: ${Object.keys(VERBS).join(', ')}.`,
        { path: request.url.split('?')[0].slice(0, 200) }, 'Use e.g. POST /v1/models/<model>:predict.');
    }
    const model = versioned ? params.model! : params.target.slice(0, colon);
    const version = versioned ? parseVersion(params.target.slice(0, colon)) : undefined;
    request.routeLabel = `/v1/models/:model${versioned ? '/versions/:version' : ''}:${verb}`;
    return handler(ctx, request, { model, version });
  };
  // :predict bodies are read with their tensors packed (inputs/dense_json.ts); the other verbs' with JSON.parse.
  const denseJson = (request: FastifyRequest) => request.url.split('?')[0].endsWith(':predict');
  return [
    // TF Serving reads a form-encoded body (curl -d, as in its docs) as JSON; so do we (body_types.ts).
    { method: 'POST', url: '/v1/models/:target', config: { scope: 'inference', denseJson }, onRequest: formBodyAsJson, handler: dispatch(false) },
    { method: 'POST', url: '/v1/models/:model/versions/:target', config: { scope: 'inference', denseJson }, onRequest: formBodyAsJson, handler: dispatch(true) },
  ];
}
