// The rate-limit hook (onRequest, after auth): one token bucket per key id, or per client address on a server
// without keys. Health probes are not limited. Over the limit: 429 with Retry-After.
import type { FastifyRequest } from 'fastify';

import { serveError } from '../../errors';
import type { RateLimiter } from '../limits/rate_limiter';

export function rateLimit(limiter: RateLimiter) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!limiter.enabled || (request.routeOptions.config.scope ?? 'public') === 'public') return;
    checkRate(limiter, request.principal?.id ?? `ip:${request.ip}`, 'Retry-After');
  };
}

/**
 * Takes a token of `client`'s bucket, or throws SERVE_E_RATE_LIMITED (also for gRPC calls: grpc/service.ts);
 * `retryAfter` names the answer's delay field ('Retry-After' header, 'retry-after' metadata).
 */
export function checkRate(limiter: RateLimiter, client: string, retryAfter: string): void {
  const wait = limiter.check(client);
  if (wait > 0) {
    throw serveError('SERVE_E_RATE_LIMITED', `A client may send at most --rate-limit=${limiter.rate} requests/s (bursts of ${limiter.burst}).`,
      { client, retryAfterSeconds: Math.ceil(wait) }, `Slow down and retry after ${retryAfter} seconds, or ask for a higher limit.`, { retryAfter: wait });
  }
}
