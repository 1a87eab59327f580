// What every gRPC method shares with the REST routes. `gates` (a grpc-js server interceptor) runs, for every call,
// the same checks in the same order as the fastify hooks (http/server.ts), when the call's metadata arrives and
// before its message is read or decoded (REST too refuses before reading the body): authentication from the
// metadata `authorization: Bearer <key>` (http/authenticate.ts's checkKey: the same KeyRing, failure throttle and
// messages as REST; no part of a key is ever echoed or logged), the rate limit per key (http/rate_limit.ts's
// checkRate), the shutdown refusal; it ends a call whose message has not arrived within --request-timeout-ms (as
// Node does a slow REST request: a half-sent message holds memory); and it keeps the in-flight and request metrics
// (route label "grpc /<package.Service>/<Method>", method "GRPC", status = the gRPC status name).
// `unary` wraps a handler with the error mapping of status.ts and names the scope its call needs. A service is a
// module of definition + implementation (server.ts lists them):
//   export function kserveService(ctx: GrpcContext): GrpcServiceModule {
//     return { definition, implementation: { ServerLive: unary(ctx, { scope: 'public', label: 'grpc /inference.GRPCInferenceService/ServerLive' },
//       async () => ({ live: true })) } };
//   }
import { randomUUID } from 'node:crypto';

import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor, type ServerUnaryCall, type ServiceDefinition,
  type UntypedServiceImplementation, type handleUnaryCall } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';

import { serveError } from '../../errors';
import type { KeyMatch } from '../auth/key_ring';
import { checkKey, type KeyWords } from '../http/authenticate';
import { requestTimeoutError } from '../http/client_error';
import type { RouteScope, ServeContext } from '../http/context';
import { checkRate } from '../http/rate_limit';
import { statusName, toGrpcFailure, type GrpcFailure } from './status';

export interface GrpcServiceModule {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/** The server's context plus the logger the gRPC side writes to. */
export interface GrpcContext extends ServeContext {
  log: FastifyBaseLogger;
}

export interface UnaryOptions {
  /** Who may call: anyone (health), any key (inference, metadata), an admin key. */
  scope: RouteScope;
  /** Metrics route label, e.g. 'grpc /inference.GRPCInferenceService/ModelInfer'. */
  label: string;
}

/** A method made by `unary`: its handler, and the gates `gates` runs before its message is read. */
export type GatedMethod = handleUnaryCall<unknown, unknown> & { gate: UnaryOptions };

const GRPC_WORDS: KeyWords = {
  unit: 'method',
  carrier: 'The authorization metadata',
  help: 'Send the metadata `authorization: Bearer <key>` with a key from --api-keys-file or INSIGHT_API_KEYS (admin: --admin-keys-file or INSIGHT_ADMIN_KEYS).',
  retryAfter: 'retry-after',
};

/** Authentication of one call: REST's rules (http/authenticate.ts) on the `authorization` metadata. Throws the ServeError to answer with. */
export function authenticateCall(ctx: ServeContext, scope: RouteScope, authorization: string | null, address: string): KeyMatch | null {
  const options = { keys: ctx.keys, throttle: ctx.authThrottle, onFailure: (outcome: 'rejected' | 'throttled') => ctx.metrics.authFailures.inc({ outcome }) };
  return checkKey(options, GRPC_WORDS, scope, authorization, address);
}

/** The gates of one call: auth, rate limit, shutdown. Throws the ServeError to answer with. */
function admit(ctx: ServeContext, options: UnaryOptions, metadata: Metadata, address: string): void {
  const values = metadata.get('authorization');
  const authorization = values.length === 0 ? null : values.length === 1 && typeof values[0] === 'string' ? values[0] : '';
  const principal = authenticateCall(ctx, options.scope, authorization, address);
  if (options.scope === 'public') return;
  if (ctx.limiter.enabled) checkRate(ctx.limiter, principal?.id ?? `ip:${address}`, 'retry-after');
  if (ctx.lifecycle.shuttingDown) {
    throw serveError('SERVE_E_SHUTTING_DOWN', 'A server that is shutting down takes no new requests.', { method: options.label.replace(/^grpc /, '') },
      'Retry against another replica, or after the restart.', { retryAfter: 1 });
  }
}

/** The status to answer `error` with, logged as REST logs its errors (INTERNAL ones with the request id they show). */
function failureOf(ctx: GrpcContext, label: string, error: unknown): GrpcFailure {
  const requestId = randomUUID();
  const failure = toGrpcFailure(error, ctx.config.models, requestId);
  if (failure.serve.code === 'SERVE_E_INTERNAL') ctx.log.error({ err: error, route: label, requestId }, 'internal error');
  else ctx.log.info({ code: failure.serve.code, route: label, status: statusName(failure.code) }, failure.serve.message.split(' Received: ')[0]);
  return failure;
}

/**
 * The interceptor that gates every call of `methods` (path → the options its `unary` was made with) when its
 * metadata arrives, and counts it in the metrics when it ends. A refused call's message is never read: grpc-js
 * reads the stream only once the handler's side has the metadata.
 */
export function gates(ctx: GrpcContext, methods: ReadonlyMap<string, UnaryOptions>): ServerInterceptor {
  return (descriptor, next) => {
    const options = methods.get(descriptor.path);
    // A method of a definition without an implementation: grpc-js answers UNIMPLEMENTED (listenGrpc checks that
    // every implemented method has its gates).
    if (options === undefined) return new ServerInterceptingCall(next);
    const start = performance.now();
    ctx.metrics.inFlight.inc();
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const refuse = (error: unknown) => {
      const failure = failureOf(ctx, options.label, error);
      call.sendStatus({ code: failure.code, details: failure.details, metadata: failure.metadata });
    };
    const finish = (code: status) => {
      clearTimeout(timer);
      if (finished) return;
      finished = true;
      ctx.metrics.inFlight.dec();
      ctx.metrics.requests.inc({ route: options.label, method: 'GRPC', status: statusName(code) });
      ctx.metrics.requestSeconds.observe({ route: options.label, method: 'GRPC' }, (performance.now() - start) / 1000);
    };
    const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
      start: (startNext) => startNext({
        onReceiveMetadata: (metadata, metadataNext) => {
          try {
            admit(ctx, options, metadata, next.getConnectionInfo().remoteAddress ?? 'unknown');
          } catch (error) {
            refuse(error);
            return;
          }
          const timeoutMs = ctx.config.requestTimeoutMs;
          timer = setTimeout(() => refuse(requestTimeoutError(timeoutMs)), timeoutMs).unref();
          metadataNext(metadata);
        },
        onReceiveMessage: (message, messageNext) => {
          clearTimeout(timer);
          messageNext(message);
        },
        // Also after an answer (a no-op then); alone when the client cancels or grpc-js ends the call itself
        // (deadline, a message over the limit): counted as CANCELLED, as REST counts aborted requests (499).
        onCancel: () => finish(status.CANCELLED),
      }),
      sendStatus: (answer, statusNext) => {
        finish(answer.code);
        statusNext(answer);
      },
    });
    return call;
  };
}

/** A unary method: `handler` with the error mapping of status.ts, gated by `gates` with `options`. */
export function unary<Req, Res>(ctx: GrpcContext, options: UnaryOptions,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> & { gate: UnaryOptions } {
  const method: handleUnaryCall<Req, Res> = (call, callback) => {
    void (async () => {
      try {
        callback(null, await handler(call.request, call));
      } catch (error) {
        const failure = failureOf(ctx, options.label, error);
        callback({ code: failure.code, details: failure.details, metadata: failure.metadata });
      }
    })();
  };
  return Object.assign(method, { gate: options });
}
