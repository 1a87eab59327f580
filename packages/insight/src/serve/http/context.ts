// What every route handler and hook of one server can reach, and the per-request fields they share.
import type { KeyRing } from '../auth/key_ring';
import type { AuthThrottle } from '../limits/auth_throttle';
import type { ServeConfig } from '../config';
import type { RateLimiter } from '../limits/rate_limiter';
import type { ServeMetrics } from '../metrics';
import type { AdminExecutor } from '../repository/admin_executor';
import type { ModelRepository } from '../repository/repository';

/** Who may call a route: anyone (health), any key (inference, metrics), or an admin key. */
export type RouteScope = 'public' | 'inference' | 'admin';

export interface ServeContext {
  config: ServeConfig;
  repository: ModelRepository;
  keys: KeyRing;
  limiter: RateLimiter;
  /** Failed authentications per client address, one count for REST and gRPC. */
  authThrottle: AuthThrottle;
  metrics: ServeMetrics;
  /** Runs admin commands here, or on every worker when clustered. */
  admin: AdminExecutor;
  /** The Prometheus text: this process's registry, or the cluster's aggregate. */
  metricsText(): Promise<string>;
  lifecycle: { shuttingDown: boolean };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
    /** Whether this request's JSON body is read with big numeric lists as DenseLists (inputs/dense_json.ts). */
    denseJson?: (request: FastifyRequest) => boolean;
  }
  interface FastifyRequest {
    /** The authenticated caller: key id (sha256 prefix) or `ip:<address>` on an open server. */
    principal: { id: string; scope: 'inference' | 'admin' } | null;
    /** Route label for metrics when one fastify route serves several (the TF Serving verbs). */
    routeLabel: string | null;
  }
}
