// Cross-site protection of a server without keys (loopback only). Such a server trusts "whoever can reach
// 127.0.0.1", and a browser on this machine can: a page on evil.example may POST to it (CSRF), or rebind its own
// DNS name to 127.0.0.1 and then read answers as same-origin (DNS rebinding). So, for admin routes and every
// non-GET route: the Host header must be a loopback name (localhost, 127.x.y.z, [::1]) with the port the request
// came in on, and a browser's Origin must be that same origin (Sec-Fetch-Site must not say cross-site or
// same-site). 403 otherwise. GETs of inference metadata and health probes stay open; a server with keys needs
// none of this (browsers do not attach Bearer keys on their own).
import type { FastifyRequest } from 'fastify';

import { serveError } from '../../errors';
import { isLoopback } from '../config';

/** 'localhost:8501' → { host: 'localhost', port: 8501 }; '[::1]:80' → { host: '::1', port: 80 }; null when unparsable. */
function splitHost(value: string): { host: string; port: number | null } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (m === null) return null;
  return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] === undefined ? null : Number(m[2]) };
}

/**
 * True when `value` (a Host header) names this machine's loopback, at `port` when it names a port (`port` null:
 * unknown, as in inject). The name is what stops DNS rebinding; a browser always sends the port it connected to.
 */
export function isLoopbackHost(value: string | undefined, port: number | null): boolean {
  const parsed = value === undefined ? null : splitHost(value);
  if (parsed === null || !isLoopback(parsed.host) || /^::ffff:/i.test(parsed.host)) return false;
  return port === null || parsed.port === null || parsed.port === port;
}

const FIX = 'Call the server from a local program (curl, a script) at http://127.0.0.1:<port>, not from a web page; or start it with API keys.';

/** The onRequest hook; `open`: the server has no keys. */
export function originGuard(open: boolean) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!open) return;
    const scope = request.routeOptions.config.scope ?? 'public';
    const reads = request.method === 'GET' || request.method === 'HEAD';
    if (scope === 'public' || (scope !== 'admin' && reads)) return;
    const port = request.socket?.localPort ?? null;
    const host = request.headers.host;
    if (!isLoopbackHost(host, port)) {
      throw serveError('SERVE_E_FORBIDDEN', 'A server without API keys answers admin and state-changing requests only for a loopback Host (DNS rebinding).',
        { host: host === undefined ? null : host.slice(0, 100) }, FIX);
    }
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    if (origin !== undefined && origin !== `http://${host}`) {
      throw serveError('SERVE_E_FORBIDDEN', 'A server without API keys answers admin and state-changing requests only from its own origin (CSRF).',
        { origin: origin.slice(0, 100) }, FIX);
    }
    if (site === 'cross-site' || site === 'same-site') {
      throw serveError('SERVE_E_FORBIDDEN', 'A server without API keys answers admin and state-changing requests only from its own origin (CSRF).',
        { 'sec-fetch-site': site }, FIX);
    }
  };
}
