// The auth hook (onRequest, before the body is read): routes declare a scope in their config; public routes
// (health probes) need nothing, inference routes any configured key, admin routes an admin key. Keys arrive
// as `Authorization: Bearer <key>`, parsed strictly; any other form (a bare key, `Bearer:<key>`, Basic, empty) is
// 401 and no part of the header is ever echoed or logged: the answer names a known scheme at most, and the header's
// length. 401s are counted per client address (AuthThrottle): past its burst, the address gets 429 before any key
// is compared. A server without keys (allowed on loopback only) lets everyone in. The rules are `checkKey`, which the
// gRPC server (grpc/service.ts) applies to its `authorization` metadata with its own words for the field.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { KeyMatch, KeyRing } from '../auth/key_ring';
import type { AuthThrottle } from '../limits/auth_throttle';
import { serveError } from '../../errors';
import type { RouteScope } from './context';

/** `Bearer <key>`: the scheme (any case), one or more spaces, one token without spaces or commas (keys have none). */
const BEARER = /^Bearer +([^\s,]+) *$/i;
/** Registered HTTP authentication schemes: a header starting with one (and a space) names it; nothing else is shown. */
const KNOWN_SCHEMES = ['Basic', 'Bearer', 'Digest', 'DPoP', 'GNAP', 'HOBA', 'Mutual', 'Negotiate', 'NTLM', 'OAuth', 'PrivateToken',
  'SCRAM-SHA-1', 'SCRAM-SHA-256', 'vapid', 'Token', 'ApiKey', 'AWS4-HMAC-SHA256'];

/** The Received fields of a malformed header: its scheme when it is a known one, else only its length. */
function describeMalformed(header: string): Record<string, unknown> {
  const word = /^(\S+) /.exec(header)?.[1].toLowerCase();
  const scheme = KNOWN_SCHEMES.find((s) => s.toLowerCase() === word);
  if (scheme === 'Bearer') return { scheme, key: 'not one token without spaces or commas, not shown' };
  if (scheme !== undefined) return { scheme };
  return { authorization: `<${header.length} characters without a "Bearer " scheme, not shown>` };
}

export interface AuthOptions {
  keys: KeyRing;
  throttle: AuthThrottle;
  /** Called for every rejected attempt: 'rejected' (401) or 'throttled' (429). */
  onFailure(outcome: 'rejected' | 'throttled'): void;
}

/** How a protocol names what carries the key, in its messages. */
export interface KeyWords {
  /** What a scope guards: 'route' (REST) or 'method' (gRPC). */
  unit: string;
  /** What carries the key: 'The Authorization header' or 'The authorization metadata'. */
  carrier: string;
  /** How to send a key. */
  help: string;
  /** The name of the retry delay the answer carries: 'Retry-After' (header) or 'retry-after' (metadata). */
  retryAfter: string;
}

/** Why a key was refused (a 401): nothing sent, not `Bearer <key>`, or no configured key. */
export type KeyRefusal = 'missing' | 'malformed' | 'unknown';

const REST_WORDS: KeyWords = {
  unit: 'route',
  carrier: 'The Authorization header',
  help: 'Send `Authorization: Bearer <key>` with a key from --api-keys-file or INSIGHT_API_KEYS (admin routes: --admin-keys-file or INSIGHT_ADMIN_KEYS).',
  retryAfter: 'Retry-After',
};

/** The WWW-Authenticate challenge of each refusal (RFC 6750). */
const CHALLENGES: Record<KeyRefusal, string> = {
  missing: 'Bearer realm="insight"',
  malformed: 'Bearer realm="insight", error="invalid_request"',
  unknown: 'Bearer realm="insight", error="invalid_token"',
};

/**
 * The caller of a `scope` request whose key arrived as `value` from `address` (null for public scopes; anyone is
 * an admin on a server without keys). Throws the ServeError to answer with (SERVE_E_RATE_LIMITED past the failure
 * throttle, SERVE_E_UNAUTHORIZED, SERVE_E_FORBIDDEN); `onRefusal` hears why before a 401 is thrown.
 */
export function checkKey(options: AuthOptions, words: KeyWords, scope: RouteScope, value: string | null | undefined, address: string,
  onRefusal: (why: KeyRefusal) => void = () => {}): KeyMatch | null {
  const { keys, throttle, onFailure } = options;
  if (scope === 'public') return null;
  if (keys.isOpen) return { id: `ip:${address}`, scope: 'admin' };
  const wait = throttle.wait(address);
  if (wait > 0) {
    onFailure('throttled');
    throw serveError('SERVE_E_RATE_LIMITED',
      `A client address may fail authentication ${throttle.burst} times in a row, then once every ${Math.round(1 / throttle.rate)} s.`,
      { failedAuthentications: throttle.burst, retryAfterSeconds: Math.ceil(wait) }, `Fix the API key, then retry after ${words.retryAfter} seconds.`, { retryAfter: wait });
  }
  const reject = (why: KeyRefusal, rule: string, received: Record<string, unknown>, fix: string): never => {
    throttle.fail(address);
    onFailure('rejected');
    onRefusal(why);
    throw serveError('SERVE_E_UNAUTHORIZED', rule, received, fix);
  };
  if (value === undefined || value === null || value.trim() === '') {
    return reject('missing', `This ${words.unit} needs an API key.`, { authorization: null }, words.help);
  }
  const match = BEARER.exec(value);
  if (match === null) return reject('malformed', `${words.carrier} must use the Bearer scheme.`, describeMalformed(value), words.help);
  const principal = keys.match(match[1]);
  if (principal === null) {
    // The key itself is never echoed or logged.
    return reject('unknown', 'The API key must match one of the configured keys.', { key: `<${match[1].length} characters, not shown>` },
      'Check the key for typos or expiry; keys are read when the server starts.');
  }
  if (scope === 'admin' && principal.scope !== 'admin') {
    throw serveError('SERVE_E_FORBIDDEN', `Admin ${words.unit}s need an admin key; inference keys may not change what is served.`,
      { key: principal.id, scope: principal.scope },
      keys.hasAdminKeys ? 'Use an admin key (INSIGHT_ADMIN_KEYS / --admin-keys-file).' : 'The admin API is off: start the server with --admin-keys-file or INSIGHT_ADMIN_KEYS.');
  }
  return principal;
}

/** The onRequest hook: `checkKey` on the Authorization header, with its WWW-Authenticate challenge on a 401. */
export function authenticate(options: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope ?? 'public';
    if (scope === 'public') return;
    request.principal = checkKey(options, REST_WORDS, scope, request.headers.authorization, request.ip,
      (why) => reply.header('www-authenticate', CHALLENGES[why]));
  };
}
