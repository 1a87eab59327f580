// The fastify instance: JSON logs with request ids (Authorization redacted, query strings redacted, client
// addresses per --log-client-address), timeouts and a connection cap from the config, body limits and guards,
// content-type parsers for images and multipart, the cross-site → auth → rate-limit → body-length → shutdown
// hooks, per-route metrics, house-style errors (Node's own client errors included), and the routes. Two steps, because the repository logs through the app's logger:
//   const app = createApp(config); ... build the context ...; await mountServe(app, ctx);
import { randomUUID } from 'node:crypto';

import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import type { ServeConfig } from '../config';
import { serveError } from '../../errors';
import { IMAGE_CONTENT_TYPES, MULTIPART_FIELDS } from '../inputs/upload';
import { registerRoutes } from '../routes';
import { authenticate } from './authenticate';
import { bodyGuard, declaredLengthCheck } from './body_guard';
import { clientErrorHandler } from './client_error';
import type { ServeContext } from './context';
import { errorHandler, notFoundHandler } from './error_handler';
import { installJsonParser } from './json_parser';
import { requestSerializer } from './log_fields';
import { originGuard } from './origin_guard';
import { rateLimit } from './rate_limit';

export interface AppOptions {
  /** Where the JSON log lines go (default: stdout). */
  logStream?: { write(line: string): void };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The bytes a body may have. */
export function bodyLimitBytes(config: ServeConfig): number {
  return Math.floor(config.bodyLimitMb * 1024 * 1024);
}

/** A fastify instance with logging and limits, no routes yet. */
export function createApp(config: ServeConfig, options: AppOptions = {}): FastifyInstance {
  const onFrameworkError = errorHandler({ bodyLimit: bodyLimitBytes(config), models: config.models });
  const requestTimeout = config.requestTimeoutMs;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
      serializers: { req: requestSerializer(config.logClientAddress) },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: bodyLimitBytes(config),
    // A client must deliver its whole request within requestTimeout (slow bodies), its headers within
    // headersTimeout (slowloris); Node checks every connectionsCheckingInterval, so the cut comes close to the
    // configured time. Inference has its own timeout (--timeout-ms), counted once the request is in.
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { requestTimeout, headersTimeout: Math.min(10_000, requestTimeout), connectionsCheckingInterval: Math.min(1000, Math.max(50, requestTimeout / 4)) },
    clientErrorHandler: clientErrorHandler(requestTimeout),
    // Our own hook answers during shutdown, with our error code.
    return503OnClosing: false,
    // Errors raised before routing (a malformed URL) get our codes too. The handler sends the answer; the reply it
    // returns is for chaining, nothing to await.
    frameworkErrors: (error, request, reply) => {
      void onFrameworkError(error, request, reply);
    },
    // A caller's X-Request-Id is kept when it is short and plain, so logs correlate across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  // Connections beyond the cap are closed by Node as they arrive.
  if (config.maxConnections > 0) app.server.maxConnections = config.maxConnections;
  return app;
}

/** Parsers, hooks, error handling and routes. */
export async function mountServe(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  const bodyLimit = bodyLimitBytes(ctx.config);
  app.decorateRequest('principal', null);
  app.decorateRequest('routeLabel', null);
  installJsonParser(app);
  app.addContentTypeParser(IMAGE_CONTENT_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(multipart, {
    limits: { fileSize: bodyLimit, files: ctx.config.maxInstances, fields: MULTIPART_FIELDS, parts: ctx.config.maxInstances + MULTIPART_FIELDS, headerPairs: 64 },
    throwFileSizeLimit: true,
  });

  const inFlight = new WeakSet<FastifyRequest>();
  const done = (request: FastifyRequest, status: number, seconds: number) => {
    if (!inFlight.delete(request)) return;
    ctx.metrics.inFlight.dec();
    const route = request.routeLabel ?? request.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ route, method: request.method, status: String(status) });
    ctx.metrics.requestSeconds.observe({ route, method: request.method }, seconds);
  };
  app.addHook('onRequest', async (request) => {
    inFlight.add(request);
    ctx.metrics.inFlight.inc();
  });
  app.addHook('onRequest', originGuard(ctx.keys.isOpen));
  app.addHook('onRequest', authenticate({ keys: ctx.keys, throttle: ctx.authThrottle, onFailure: (outcome) => ctx.metrics.authFailures.inc({ outcome }) }));
  app.addHook('onRequest', rateLimit(ctx.limiter));
  app.addHook('onRequest', declaredLengthCheck(bodyLimit));
  const bodies = bodyGuard(ctx, bodyLimit);
  app.addHook('preParsing', bodies.preParsing);
  app.addHook('onResponse', bodies.finish);
  app.addHook('onRequestAbort', bodies.finish);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!ctx.lifecycle.shuttingDown || (request.routeOptions.config.scope ?? 'public') === 'public') return;
    reply.header('connection', 'close');
    throw serveError('SERVE_E_SHUTTING_DOWN', 'A server that is shutting down takes no new requests.', { method: request.method, path: request.url.split('?')[0] },
      'Retry against another replica, or after the restart.', { retryAfter: 1 });
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    // Responses finishing during shutdown close their connection, so the listener can close.
    if (ctx.lifecycle.shuttingDown) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => done(request, reply.statusCode, reply.elapsedTime / 1000));
  app.addHook('onRequestAbort', async (request) => done(request, 499, 0));
  app.setErrorHandler(errorHandler({ bodyLimit, models: ctx.config.models }));
  app.setNotFoundHandler(notFoundHandler(bodyLimit));
  registerRoutes(app, ctx);
}
