// KServe v2 server metadata: GET /v2 (and /v2/, the spec's spelling) → {"name": "insight", "version": "0.1.0",
// "extensions": [...]}: Triton's classification output, the model repository API (repository_index.ts,
// repository_load.ts) and binary tensor data (inputs/binary_tensors.ts).
import type { RouteOptions } from 'fastify';

export const SERVER_NAME = 'insight';
export const SERVER_VERSION = '0.1.0';
const EXTENSIONS = ['classification', 'model_repository', 'binary_tensor_data'];

export function serverMetadataRoutes(): RouteOptions[] {
  const handler = async () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: EXTENSIONS });
  return ['/v2', '/v2/'].map((url) => ({ method: 'GET', url, config: { scope: 'inference' }, handler }));
}
