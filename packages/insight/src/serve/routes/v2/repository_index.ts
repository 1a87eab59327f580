// KServe v2 model repository extension, index: POST /v2/repository/index [{"ready"?: bool}] →
//   [{"name": "cifar", "version": "3", "state": "READY", "reason": ""}, {"name": "cifar", "version": "2",
//     "state": "UNAVAILABLE", "reason": "<last load error, or why it is not served>"}, ...]
// One entry per version on disk or known to the server, highest first; a model with no version gets one entry
// without "version". States as Triton names them: READY (serving), LOADING, UNLOADING, UNAVAILABLE. With
// {"ready": true} only READY entries. Admin key (it is the admin list in the protocol's shape).
import type { FastifyRequest, RouteOptions } from 'fastify';

import { serveError, typeOf } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { checkKeys, requireObject } from '../../inputs/json_checks';
import type { ModelSnapshot } from '../../repository/repository';
import { jsonBody } from '../shared';

type RepositoryState = 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';

interface RepositoryEntry {
  name: string;
  version?: string;
  state: RepositoryState;
  reason: string;
}

export function repositoryIndexRoutes(ctx: ServeContext): RouteOptions[] {
  return [{
    method: 'POST', url: '/v2/repository/index', config: { scope: 'admin' },
    handler: async (request: FastifyRequest) => {
      const readyOnly = parseIndexBody(request);
      const { models } = await ctx.admin.run({ action: 'list' });
      const entries = models.flatMap(repositoryEntries);
      return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
    },
  }];
}

/** A model's index entries, highest version first. */
function repositoryEntries(model: ModelSnapshot): RepositoryEntry[] {
  const statuses = new Map(model.versions.map((v) => [v.version, v]));
  const versions = [...new Set([...model.diskVersions, ...statuses.keys()])].sort((a, b) => b - a);
  if (versions.length === 0) return [{ name: model.name, state: 'UNAVAILABLE', reason: 'no version on disk' }];
  return versions.map((version) => {
    const status = statuses.get(version);
    const serving = model.servingVersions.includes(version);
    const state: RepositoryState = serving ? 'READY'
      : status?.state === 'LOADING' || status?.state === 'START' ? 'LOADING'
        : status?.state === 'UNLOADING' ? 'UNLOADING' : 'UNAVAILABLE';
    const reason = status?.error
      ?? (serving || state !== 'UNAVAILABLE' ? ''
        : model.unloaded ? 'unloaded (POST /v2/repository/models/<model>/load serves it again)'
          : model.pinnedVersion !== null ? `not the pinned version ${model.pinnedVersion}`
            : 'not served: older than the --keep-versions highest versions');
    return { name: model.name, version: String(version), state, reason };
  });
}

/** The optional body: {"ready": true} lists only the ready versions. */
function parseIndexBody(request: FastifyRequest): boolean {
  if (request.body === undefined || request.body === null) return false;
  const body = requireObject(jsonBody(request, '{"ready": true}'), 'The body of repository/index', '{} or {"ready": true}');
  checkKeys(body, ['ready'], 'The body of repository/index');
  if (body.ready !== undefined && typeof body.ready !== 'boolean') {
    throw serveError('SERVE_E_BAD_INPUT', '"ready" must be true or false.', { ready: typeOf(body.ready) === 'string' ? body.ready : typeOf(body.ready) },
      'Send {"ready": true} for the ready versions only, or {} for all.');
  }
  return body.ready === true;
}
