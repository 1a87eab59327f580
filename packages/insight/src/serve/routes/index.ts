// Every route of the server, registered from one list (one file per HTTP unit).
import type { FastifyInstance, RouteOptions } from 'fastify';

import type { ServeContext } from '../http/context';
import { adminListRoutes } from './admin/list';
import { adminLoadRoutes } from './admin/load';
import { adminReloadRoutes } from './admin/reload';
import { adminUnloadRoutes } from './admin/unload';
import { healthRoutes } from './health';
import { metricsRoutes } from './metrics';
import { modelMetadataRoutes } from './v1/model_metadata';
import { modelStatusRoutes } from './v1/model_status';
import { verbRoutes } from './v1/verbs';
import { v2ExplainRoutes } from './v2/explain';
import { v2InferRoutes } from './v2/infer';
import { v2ModelMetadataRoutes } from './v2/model_metadata';
import { v2ModelReadyRoutes } from './v2/model_ready';
import { repositoryIndexRoutes } from './v2/repository_index';
import { repositoryLoadRoutes } from './v2/repository_load';
import { serverMetadataRoutes } from './v2/server_metadata';

export const ROUTES: ((ctx: ServeContext) => RouteOptions[])[] = [
  healthRoutes,
  metricsRoutes,
  modelStatusRoutes,
  modelMetadataRoutes,
  verbRoutes,
  serverMetadataRoutes,
  v2ModelMetadataRoutes,
  v2ModelReadyRoutes,
  v2InferRoutes,
  v2ExplainRoutes,
  repositoryIndexRoutes,
  repositoryLoadRoutes,
  adminListRoutes,
  adminLoadRoutes,
  adminUnloadRoutes,
  adminReloadRoutes,
];

export function registerRoutes(app: FastifyInstance, ctx: ServeContext): void {
  for (const factory of ROUTES) for (const route of factory(ctx)) app.route(route);
}
