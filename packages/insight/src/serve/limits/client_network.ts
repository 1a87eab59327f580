// Client addresses grouped as one client is usually given them: an IPv4 address alone, an IPv6 address by its /64
// (one host or home network gets a whole /64 and may pick any address in it, so per-address counting of IPv6
// clients counts nothing).
import { isIP } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (zone id dropped). */
export function expandIpv6(address: string): string[] {
  const [head, tail = null] = address.split('%')[0].split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === null || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  return [...left, ...Array.from({ length: tail === null ? 0 : missing }, () => '0'), ...right];
}

/** '198.51.100.9' → itself; '::ffff:198.51.100.9' → '198.51.100.9'; '2001:db8:1:2::5' → '2001:db8:1:2::/64'. */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
