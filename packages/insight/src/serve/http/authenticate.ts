// The auth hook (onRequest, before the body is read): routes declare a scope in their config; public routes
// (health probes) need nothing, inference routes any configured key, admin routes an admin key. Keys arrive
// as `Authorization: Bearer <key>`. A server without keys (allowed on loopback only) lets everyone in.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { KeyRing } from '../auth/key_ring';
import { serveError } from '../../errors';

const KEY_HELP = 'Send `Authorization: Bearer <key>` with a key from --api-keys-file or INSIGHT_API_KEYS (admin routes: --admin-keys-file or INSIGHT_ADMIN_KEYS).';

export function authenticate(keys: KeyRing) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope ?? 'public';
    if (scope === 'public') return;
    if (keys.isOpen) {
      request.principal = { id: `ip:${request.ip}`, scope: 'admin' };
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      reply.header('www-authenticate', 'Bearer realm="insight"');
      throw serveError('SERVE_E_UNAUTHORIZED', 'This route needs an API key.', { authorization: null }, KEY_HELP);
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) {
      reply.header('www-authenticate', 'Bearer realm="insight"');
      throw serveError('SERVE_E_UNAUTHORIZED', 'The Authorization header must use the Bearer scheme.',
        { scheme: header.split(' ')[0].slice(0, 16) }, KEY_HELP);
    }
    const principal = keys.match(match[1]);
    if (principal === null) {
      reply.header('www-authenticate', 'Bearer realm="insight", error="invalid_token"');
      // The key itself is never echoed or logged.
      throw serveError('SERVE_E_UNAUTHORIZED', 'The API key must match one of the configured keys.',
        { key: `<${match[1].length} characters, not shown>` }, 'Check the key for typos or expiry; keys are read when the server starts.');
    }
    if (scope === 'admin' && principal.scope !== 'admin') {
      throw serveError('SERVE_E_FORBIDDEN', 'Admin routes need an admin key; inference keys may not change what is served.',
        { key: principal.id, scope: principal.scope },
        keys.hasAdminKeys ? 'Use an admin key (INSIGHT_ADMIN_KEYS / --admin-keys-file).' : 'The admin API is off: start the server with --admin-keys-file or INSIGHT_ADMIN_KEYS.');
    }
    request.principal = principal;
  };
}
