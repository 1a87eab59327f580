// The auth hook (onRequest, before the body is read): routes declare a scope in their config; public routes
// (health probes) need nothing, inference routes any configured key, admin routes an admin key. Keys arrive
// as `Authorization: Bearer <key>`, parsed strictly; any other form (a bare key, `Bearer:<key>`, Basic, empty) is
// 401 and no part of the header is ever echoed or logged: the answer names a known scheme at most, and the header's
// length. 401s are counted per client address (AuthThrottle): past its burst, the address gets 429 before any key
// is compared. A server without keys (allowed on loopback only) lets everyone in.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { KeyRing } from '../auth/key_ring';
import type { AuthThrottle } from '../limits/auth_throttle';
import { serveError } from '../../errors';

const KEY_HELP = 'Send `Authorization: Bearer <key>` with a key from --api-keys-file or INSIGHT_API_KEYS (admin routes: --admin-keys-file or INSIGHT_ADMIN_KEYS).';

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

export function authenticate({ keys, throttle, onFailure }: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope ?? 'public';
    if (scope === 'public') return;
    if (keys.isOpen) {
      request.principal = { id: `ip:${request.ip}`, scope: 'admin' };
      return;
    }
    const wait = throttle.wait(request.ip);
    if (wait > 0) {
      onFailure('throttled');
      throw serveError('SERVE_E_RATE_LIMITED',
        `A client address may fail authentication ${throttle.burst} times in a row, then once every ${Math.round(1 / throttle.rate)} s.`,
        { failedAuthentications: throttle.burst, retryAfterSeconds: Math.ceil(wait) }, 'Fix the API key, then retry after Retry-After seconds.', { retryAfter: wait });
    }
    const reject = (rule: string, received: Record<string, unknown>, fix: string, challenge: string): never => {
      throttle.fail(request.ip);
      onFailure('rejected');
      reply.header('www-authenticate', challenge);
      throw serveError('SERVE_E_UNAUTHORIZED', rule, received, fix);
    };
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      return reject('This route needs an API key.', { authorization: null }, KEY_HELP, 'Bearer realm="insight"');
    }
    const match = BEARER.exec(header);
    if (match === null) {
      return reject('The Authorization header must use the Bearer scheme.', describeMalformed(header), KEY_HELP, 'Bearer realm="insight", error="invalid_request"');
    }
    const principal = keys.match(match[1]);
    if (principal === null) {
      // The key itself is never echoed or logged.
      return reject('The API key must match one of the configured keys.', { key: `<${match[1].length} characters, not shown>` },
        'Check the key for typos or expiry; keys are read when the server starts.', 'Bearer realm="insight", error="invalid_token"');
    }
    if (scope === 'admin' && principal.scope !== 'admin') {
      throw serveError('SERVE_E_FORBIDDEN', 'Admin routes need an admin key; inference keys may not change what is served.',
        { key: principal.id, scope: principal.scope },
        keys.hasAdminKeys ? 'Use an admin key (INSIGHT_ADMIN_KEYS / --admin-keys-file).' : 'The admin API is off: start the server with --admin-keys-file or INSIGHT_ADMIN_KEYS.');
    }
    request.principal = principal;
  };
}
