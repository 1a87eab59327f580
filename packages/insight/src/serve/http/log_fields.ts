// What a request contributes to the JSON logs: method, path with the query string redacted (`?key=...` must not
// reach a log), Host, and the client address as --log-client-address says: full, anonymized (IPv4 /24, IPv6 /48:
// the rest zeroed, as analytics tools do) or none. Bodies, headers and credentials are never logged.
import { isIP } from 'node:net';

import { expandIpv6 } from '../limits/client_network';

export type ClientAddressMode = 'full' | 'anonymized' | 'none';

/** `/v1/models/m:predict?key=abc` → `/v1/models/m:predict?[redacted]`; a URL without a query is unchanged. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** '203.0.113.77' → '203.0.113.0'; '2001:db8:1:2::5' → '2001:db8:1::'; '::ffff:10.1.2.3' → '::ffff:10.1.2.0'. */
function anonymizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return `::ffff:${anonymizeAddress(mapped[1])}`;
  if (isIP(address) === 4) return address.replace(/\.\d+$/, '.0');
  if (isIP(address) === 6) {
    const groups = expandIpv6(address).slice(0, 3).map((g) => g.replace(/^0+(?=.)/, ''));
    while (groups.length > 0 && groups[groups.length - 1] === '0') groups.pop();
    return `${groups.join(':')}::`;
  }
  return 'unknown';
}

/** The client address as the log shows it (undefined: left out). */
function logAddress(address: string | undefined, mode: ClientAddressMode): string | undefined {
  if (mode === 'none' || address === undefined) return undefined;
  return mode === 'full' ? address : anonymizeAddress(address);
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
  host?: string;
  socket?: { remotePort?: number } | null;
}

/** pino's `req` serializer for fastify's request log lines. */
export function requestSerializer(mode: ClientAddressMode) {
  return (req: LoggedRequest) => ({
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: logAddress(req.ip, mode),
    remotePort: mode === 'full' ? req.socket?.remotePort : undefined,
  });
}
