// What every gRPC method shares with the REST routes: `unary` wraps a handler with the same gates, in the same order
// as the fastify hooks (http/server.ts): authentication from the metadata `authorization: Bearer <key>` (the same
// KeyRing and failure throttle rules as http/authenticate.ts; no part of a key is ever echoed or logged), the rate
// limit per key, the shutdown refusal, in-flight and request metrics (route label "grpc /<package.Service>/<Method>",
// method "GRPC", status = the gRPC status name), and the error mapping of status.ts. A service is a module of
// definition + implementation (server.ts lists them):
//   export function kserveService(ctx: GrpcContext): GrpcServiceModule {
//     return { definition, implementation: { ServerLive: unary(ctx, { scope: 'public', label: 'grpc /inference.GRPCInferenceService/ServerLive' },
//       async () => ({ live: true })) } };
//   }
import type { ServiceDefinition, ServerUnaryCall, UntypedServiceImplementation, handleUnaryCall } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';

import { serveError } from '../../errors';
import type { Scope } from '../auth/key_ring';
import type { RouteScope, ServeContext } from '../http/context';
import type { AuthThrottle } from '../limits/auth_throttle';
import { statusName, toGrpcFailure } from './status';

export interface GrpcServiceModule {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/** The server's context plus what the gRPC side keeps of its own: the auth failure throttle and the logger. */
export interface GrpcContext extends ServeContext {
  throttle: AuthThrottle;
  log: FastifyBaseLogger;
}

export interface UnaryOptions {
  /** Who may call: anyone (health), any key (inference, metadata), an admin key. */
  scope: RouteScope;
  /** Metrics route label, e.g. 'grpc /inference.GRPCInferenceService/ModelInfer'. */
  label: string;
}

/** The caller, as the REST hooks record it: key id (or `ip:<address>` on an open server) and scope. */
export interface GrpcPrincipal {
  id: string;
  scope: Scope;
}

const KEY_HELP = 'Send the metadata `authorization: Bearer <key>` with a key from --api-keys-file or INSIGHT_API_KEYS (admin: --admin-keys-file or INSIGHT_ADMIN_KEYS).';
const BEARER = /^Bearer +([^\s,]+) *$/i;

/** The client's address from grpc-js's peer string ('127.0.0.1:5000', '[::1]:5000'). */
export function peerAddress(peer: string): string {
  const v6 = /^\[(.+)\]:\d+$/.exec(peer);
  if (v6 !== null) return v6[1];
  const v4 = /^(.+):\d+$/.exec(peer);
  return v4 !== null ? v4[1] : peer;
}

/** Authentication of one call (http/authenticate.ts's rules); throws the ServeError to answer with. */
export function authenticateCall(ctx: GrpcContext, scope: RouteScope, authorization: string | null, address: string): GrpcPrincipal | null {
  if (scope === 'public') return null;
  if (ctx.keys.isOpen) return { id: `ip:${address}`, scope: 'admin' };
  const wait = ctx.throttle.wait(address);
  if (wait > 0) {
    ctx.metrics.authFailures.inc({ outcome: 'throttled' });
    throw serveError('SERVE_E_RATE_LIMITED',
      `A client address may fail authentication ${ctx.throttle.burst} times in a row, then once every ${Math.round(1 / ctx.throttle.rate)} s.`,
      { failedAuthentications: ctx.throttle.burst, retryAfterSeconds: Math.ceil(wait) }, 'Fix the API key, then retry after retry-after seconds.', { retryAfter: wait });
  }
  const reject = (rule: string, received: Record<string, unknown>, fix: string): never => {
    ctx.throttle.fail(address);
    ctx.metrics.authFailures.inc({ outcome: 'rejected' });
    throw serveError('SERVE_E_UNAUTHORIZED', rule, received, fix);
  };
  if (authorization === null || authorization.trim() === '') return reject('This method needs an API key.', { authorization: null }, KEY_HELP);
  const match = BEARER.exec(authorization);
  if (match === null) {
    return reject('The authorization metadata must use the Bearer scheme.', { authorization: `<${authorization.length} characters, not shown>` }, KEY_HELP);
  }
  const principal = ctx.keys.match(match[1]);
  if (principal === null) {
    return reject('The API key must match one of the configured keys.', { key: `<${match[1].length} characters, not shown>` },
      'Check the key for typos or expiry; keys are read when the server starts.');
  }
  if (scope === 'admin' && principal.scope !== 'admin') {
    throw serveError('SERVE_E_FORBIDDEN', 'Admin methods need an admin key; inference keys may not change what is served.', { key: principal.id, scope: principal.scope },
      ctx.keys.hasAdminKeys ? 'Use an admin key (INSIGHT_ADMIN_KEYS / --admin-keys-file).' : 'The admin API is off: start the server with --admin-keys-file or INSIGHT_ADMIN_KEYS.');
  }
  return principal;
}

/** The gates before a handler runs: auth, rate limit, shutdown. Returns the caller. */
function admit(ctx: GrpcContext, options: UnaryOptions, call: ServerUnaryCall<unknown, unknown>): GrpcPrincipal | null {
  const address = peerAddress(call.getPeer());
  const values = call.metadata.get('authorization');
  const authorization = values.length === 0 ? null : values.length === 1 && typeof values[0] === 'string' ? values[0] : '';
  const principal = authenticateCall(ctx, options.scope, authorization, address);
  if (options.scope === 'public') return principal;
  if (ctx.limiter.enabled) {
    const client = principal?.id ?? `ip:${address}`;
    const wait = ctx.limiter.check(client);
    if (wait > 0) {
      throw serveError('SERVE_E_RATE_LIMITED', `A client may send at most --rate-limit=${ctx.limiter.rate} requests/s (bursts of ${ctx.limiter.burst}).`,
        { client, retryAfterSeconds: Math.ceil(wait) }, 'Slow down and retry after retry-after seconds, or ask for a higher limit.', { retryAfter: wait });
    }
  }
  if (ctx.lifecycle.shuttingDown) {
    throw serveError('SERVE_E_SHUTTING_DOWN', 'A server that is shutting down takes no new requests.', { method: options.label.replace(/^grpc /, '') },
      'Retry against another replica, or after the restart.', { retryAfter: 1 });
  }
  return principal;
}

/** A unary method with the server's gates, metrics and error mapping around `handler`. */
export function unary<Req, Res>(ctx: GrpcContext, options: UnaryOptions,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>, principal: GrpcPrincipal | null) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const start = performance.now();
    ctx.metrics.inFlight.inc();
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      ctx.metrics.inFlight.dec();
      ctx.metrics.requests.inc({ route: options.label, method: 'GRPC', status: statusName(code) });
      ctx.metrics.requestSeconds.observe({ route: options.label, method: 'GRPC' }, (performance.now() - start) / 1000);
    };
    // A client that cancels (or whose deadline passes) is counted at once, as REST counts aborted requests (499).
    call.once('cancelled', () => finish(1));
    void (async () => {
      try {
        const principal = admit(ctx, options, call);
        const response = await handler(call.request, call, principal);
        finish(0);
        callback(null, response);
      } catch (error) {
        const failure = toGrpcFailure(error, ctx.config.models);
        if (failure.serve.code === 'SERVE_E_INTERNAL') ctx.log.error({ err: error, route: options.label }, 'internal error');
        else ctx.log.info({ code: failure.serve.code, route: options.label, status: statusName(failure.code) }, failure.serve.message.split(' Received: ')[0]);
        finish(failure.code);
        callback({ code: failure.code, details: failure.details, metadata: failure.metadata });
      }
    })();
  };
}
