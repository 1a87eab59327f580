// The gRPC server beside fastify (`insight serve --grpc-port <port>`): a @grpc/grpc-js Server on --host, plaintext
// (TLS terminates in front, as for HTTP), serving every module of GRPC_SERVICES on the same ServeContext as REST
// (repository, batchers, keys, rate limiter, metrics, lifecycle). Limits: a message may be --body-limit-mb (grpc-js
// answers RESOURCE_EXHAUSTED beyond it, before reading the message); answers up to MAX_SEND_BYTES; idle connections
// close after --keep-alive-timeout-ms; clients may ping at most every MIN_PING_INTERVAL_MS. With --workers N every
// worker binds its own gRPC server after its HTTP one; node:cluster hands the listening handles out from the primary,
// a worker's n-th listen on port 0 getting the same port in every worker, so the workers share one gRPC port as they
// share the HTTP one (test/serve/grpc_cluster.test.ts).
//   const grpc = await listenGrpc(ctx, app.log, config.host, config.grpcPort);   // grpc.address: '127.0.0.1:50051'
//   ...; await closeGrpc(grpc.server, 5000);                                      // graceful, then forced
import type * as http2 from 'node:http2';

import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';

import { ruleError } from '../../errors';
import type { ServeContext } from '../http/context';
import { bodyLimitBytes } from '../http/server';
import { kserveService } from './kserve/service';
import { tfServingService } from './tf_serving/service';
import { gates, type GatedMethod, type GrpcContext, type GrpcServiceModule, type UnaryOptions } from './service';

/** The services served (each a factory on the shared context). */
const GRPC_SERVICES: readonly ((ctx: GrpcContext) => GrpcServiceModule)[] = [
  tfServingService,
  kserveService,
];

/** Largest answer: far above what a classifier answers (64 instances x 1000 classes x 2 outputs is 512 KB). */
const MAX_SEND_BYTES = 64 * 1024 * 1024;
/** Keepalive: the server pings a silent client every 2 min and drops it when no answer comes within 20 s. */
const KEEPALIVE_TIME_MS = 120_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;
/** Clients' own keepalive pings: at most one per 10 s (more is abuse: GOAWAY "too_many_pings"). */
const MIN_PING_INTERVAL_MS = 10_000;

export interface GrpcListener {
  server: Server;
  port: number;
  /** host:port as clients dial it ('127.0.0.1:50051', '[::1]:50051'). */
  address: string;
}

/** The grpc-js server options for `ctx.config`. */
function grpcServerOptions(ctx: ServeContext): Record<string, number> {
  return {
    'grpc.max_receive_message_length': bodyLimitBytes(ctx.config),
    'grpc.max_send_message_length': MAX_SEND_BYTES,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.http2.min_ping_interval_without_data_ms': MIN_PING_INTERVAL_MS,
    'grpc.max_connection_idle_ms': ctx.config.keepAliveTimeoutMs,
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A started gRPC server with every service of GRPC_SERVICES on `ctx`, bound to host:port (0: any free port). */
export async function listenGrpc(ctx: ServeContext, log: FastifyBaseLogger, host: string, port: number): Promise<GrpcListener> {
  const grpcCtx: GrpcContext = { ...ctx, log };
  // The context object is copied; its lifecycle flag is an object, shared, so shutdown reaches both sides.
  // Every call passes the gates (auth, rate limit, shutdown) when its metadata arrives, before its message is read.
  const methods = new Map<string, UnaryOptions>();
  const server = new Server({ ...grpcServerOptions(ctx), interceptors: [gates(grpcCtx, methods)] });
  for (const factory of GRPC_SERVICES) {
    const module = factory(grpcCtx);
    for (const [name, method] of Object.entries(module.definition)) {
      const implementation = module.implementation[name] as Partial<GatedMethod> | undefined;
      if (implementation === undefined) continue;
      if (implementation.gate === undefined) throw new Error(`The gRPC method ${method.path} must be made with unary() (it has no gates).`);
      methods.set(method.path, implementation.gate);
    }
    server.addService(module.definition, module.implementation);
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), ServerCredentials.createInsecure(), (error, actual) => (error ? reject(error) : resolve(actual)));
  }).catch((error: Error) => {
    server.forceShutdown();
    const code = /address already in use|EADDRINUSE/i.test(error.message) ? 'EADDRINUSE' : error.message;
    throw ruleError('INSIGHT_E_LISTEN', 'insight serve --grpc-port needs a free port on an address of this machine.', { host, grpcPort: port, error: code },
      code === 'EADDRINUSE' ? 'Stop the other server or pick another --grpc-port (0 = any free port).' : 'Check --host (e.g. 127.0.0.1, or 0.0.0.0 with API keys).');
  });
  widenFlowControl(server, bodyLimitBytes(ctx.config));
  return { server, port: bound, address: hostPort(host, bound) };
}

/**
 * HTTP/2 lets a client send only as many bytes as the server's flow-control windows allow (64 KB per connection
 * by default) until the server reads them and sends WINDOW_UPDATEs: while a forward pass holds the event loop,
 * none go out, so 64 calls of one 12 KB image each on one connection arrive a few at a time and batch poorly.
 * Every session the server accepts gets windows of one largest request per stream (up to 4 MiB) and 16 of them per
 * connection (up to 32 MiB) (grpc-js has server options for neither: its http2 servers are reached through a private
 * field, checked here).
 */
function widenFlowControl(server: Server, largestRequest: number): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) return;
  const stream = Math.min(4 * 2 ** 20, Math.max(65_535, largestRequest + 1024));
  const connection = Math.min(32 * 2 ** 20, 16 * stream);
  for (const http2Server of http2Servers.keys()) {
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      session.setLocalWindowSize(connection);
      session.settings({ initialWindowSize: stream });
    });
  }
}

/**
 * Graceful stop: no new calls (clients get GOAWAY and go elsewhere), calls in flight finish; after `graceMs` the
 * rest are cancelled (forceShutdown). Resolves true when every call finished in time.
 */
export function closeGrpc(server: Server, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve(false);
    }, Math.max(0, graceMs));
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
