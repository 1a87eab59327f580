// Who may open the dashboard. On loopback it is open unless keys are configured; bound beyond loopback it needs
// at least one key (start-up refuses otherwise). Keys come from env INSIGHT_DASHBOARD_KEYS (comma-separated) and
// --keys-file (one per line, # comments), at least 16 characters each, as for `insight serve`. A request carries
// one as `Authorization: Bearer <key>` (scripts) or as the password of HTTP Basic authentication (browsers ask
// for it on the 401, and send it with every request of the page, the event stream included). Errors and logs
// never contain a key or any part of one. Keys are read and compared by serve's code (serve/auth/).
import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../errors';
import { KeyRing } from '../../serve/auth/key_ring';
import { readKeys } from '../../serve/auth/key_source';
import { isLoopback } from '../../serve/config';
import { isLoopbackHost } from '../../serve/http/origin_guard';

export const DASHBOARD_KEYS_ENV = 'INSIGHT_DASHBOARD_KEYS';

/** The configured keys (env, then file; read and checked as serve's keys are), naming the place, never the key. */
export function readDashboardKeys(keysFile: string | null, env: NodeJS.ProcessEnv = process.env, warnings: string[] = []): string[] {
  return readKeys({ envName: DASHBOARD_KEYS_ENV, file: keysFile, flag: '--keys-file', noun: 'Dashboard keys' }, env, warnings);
}

/** Refuses a dashboard bound beyond loopback without a key. */
export function checkDashboardExposure(host: string, keys: readonly string[]): void {
  if (!isLoopback(host) && keys.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'insight dashboard listens beyond loopback (127.0.0.1, ::1) only with a dashboard key configured: it shows every run, file and study.',
      { host, keys: 0 },
      `Set ${DASHBOARD_KEYS_ENV} (comma-separated, e.g. $(openssl rand -hex 24)) or pass --keys-file <file> (one key per line); or use --host 127.0.0.1.`);
  }
}

/**
 * Requires one of `keys` on every request: 401 + WWW-Authenticate otherwise. Without keys (loopback only) the Host
 * must name loopback (any port: SSH tunnels), so a page that rebinds its own name to 127.0.0.1 reads nothing.
 */
export function requireKeys(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) {
    app.addHook('onRequest', async (request, reply) => {
      if (isLoopbackHost(request.headers.host, null)) return;
      const error = ruleError('SERVE_E_FORBIDDEN', 'A dashboard without keys answers only requests for a loopback Host (DNS rebinding).',
        { host: (request.headers.host ?? '').slice(0, 100) }, `Open it at http://127.0.0.1:<port>; or configure a key (${DASHBOARD_KEYS_ENV} or --keys-file).`);
      return reply.code(403).send({ code: error.code, message: error.message });
    });
    return;
  }
  const ring = new KeyRing(keys, []);
  app.addHook('onRequest', async (request, reply) => {
    const offered = offeredKey(request.headers.authorization);
    if (offered !== null && ring.match(offered) !== null) return;
    const error = ruleError('SERVE_E_UNAUTHORIZED', 'The dashboard needs a dashboard key.',
      { authorization: request.headers.authorization === undefined ? 'absent' : 'no matching key' },
      'Send `Authorization: Bearer <key>`, or enter the key as the password when the browser asks (any user name).');
    return reply.code(401).header('www-authenticate', 'Basic realm="insight dashboard", charset="UTF-8"').send({ code: error.code, message: error.message });
  });
}

/** The key in `Bearer <key>` or in Basic's `user:key`; null for anything else. */
function offeredKey(header: string | undefined): string | null {
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header ?? '');
  if (match === null) return null;
  if (match[1].toLowerCase() === 'bearer') return match[2];
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}
