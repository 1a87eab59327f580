// Who may open the dashboard. On loopback it is open unless keys are configured; bound beyond loopback it needs
// at least one key (start-up refuses otherwise). Keys come from env INSIGHT_DASHBOARD_KEYS (comma-separated) and
// --keys-file (one per line, # comments), at least 16 characters each, as for `insight serve`. A request carries
// one as `Authorization: Bearer <key>` (scripts) or as the password of HTTP Basic authentication (browsers ask
// for it on the 401, and send it with every request of the page, the event stream included). Errors and logs
// never contain a key or any part of one.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../errors';

export const DASHBOARD_KEYS_ENV = 'INSIGHT_DASHBOARD_KEYS';
const MIN_KEY_LENGTH = 16;

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The configured keys (env, then file); INSIGHT_E_CONFIG / INSIGHT_E_CONFIG_FILE naming the place, never the key. */
export function readDashboardKeys(keysFile: string | null, env: NodeJS.ProcessEnv = process.env): string[] {
  const keys: { key: string; where: Record<string, unknown> }[] = [];
  (env[DASHBOARD_KEYS_ENV] ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '')
    .forEach((key, i) => keys.push({ key, where: { env: DASHBOARD_KEYS_ENV, position: i + 1 } }));
  if (keysFile !== null) {
    let text: string;
    try {
      text = fs.readFileSync(keysFile, 'utf8');
    } catch (error) {
      throw ruleError('INSIGHT_E_CONFIG_FILE', 'The --keys-file file must exist and be readable.', { 'keys-file': keysFile, error: (error as NodeJS.ErrnoException).code ?? 'unreadable' },
        'Check the path and permissions.');
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const key = raw.trim();
      if (key !== '' && !key.startsWith('#')) keys.push({ key, where: { file: keysFile, line: i + 1 } });
    });
  }
  for (const { key, where } of keys) {
    if (key.length < MIN_KEY_LENGTH || /\s|,/.test(key)) {
      throw ruleError('INSIGHT_E_CONFIG', `Dashboard keys must be at least ${MIN_KEY_LENGTH} characters without spaces or commas.`,
        { ...where, length: key.length }, 'Generate keys with e.g. `openssl rand -hex 24`.');
    }
  }
  return keys.map((k) => k.key);
}

/** Refuses a dashboard bound beyond loopback without a key. */
export function checkDashboardExposure(host: string, keys: readonly string[]): void {
  if (!isLoopbackHost(host) && keys.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'insight dashboard listens beyond loopback (127.0.0.1, ::1) only with a dashboard key configured: it shows every run, file and study.',
      { host, keys: 0 },
      `Set ${DASHBOARD_KEYS_ENV} (comma-separated, e.g. $(openssl rand -hex 24)) or pass --keys-file <file> (one key per line); or use --host 127.0.0.1.`);
  }
}

/** Requires one of `keys` on every request (no-op without keys): 401 + WWW-Authenticate otherwise. */
export function requireKeys(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  app.addHook('onRequest', async (request, reply) => {
    const offered = offeredKey(request.headers.authorization);
    const d = offered === null ? null : digest(offered);
    if (d !== null && digests.some((k) => timingSafeEqual(k, d))) return;
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

/** Equal-length digests, so the comparison takes the same time whatever is offered. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
