// KServe v2 server metadata: GET /v2 → {"name": "insight", "version": "0.1.0", "extensions": [...]}.
import type { RouteOptions } from 'fastify';

export const SERVER_NAME = 'insight';
export const SERVER_VERSION = '0.1.0';

export function serverMetadataRoutes(): RouteOptions[] {
  return [{
    method: 'GET', url: '/v2', config: { scope: 'inference' },
    handler: async () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ['classification', 'model_repository'] }),
  }];
}
