// API keys as SHA-256 digests, compared in constant time. The plain keys are hashed on arrival and never
// stored, logged or echoed; a key's public identity (for rate limits and logs) is a short digest prefix.
import { createHash, timingSafeEqual } from 'node:crypto';

export type Scope = 'inference' | 'admin';

export interface KeyMatch {
  scope: Scope;
  /** First 8 hex digits of the key's SHA-256: safe to log, stable across restarts. */
  id: string;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * The configured keys. `match` hashes the presented key and compares its digest with every stored digest
 * with crypto.timingSafeEqual, without stopping at the first hit, so neither the key's length nor how many
 * bytes match nor which entry matched shows in the response time.
 * Example: `new KeyRing(['k1...'], ['a1...']).match('a1...')` → { scope: 'admin', id: '3f2a9c1d' }.
 */
export class KeyRing {
  private readonly entries: { hash: Buffer; scope: Scope }[];

  constructor(inferenceKeys: readonly string[], adminKeys: readonly string[]) {
    this.entries = [
      ...inferenceKeys.map((key) => ({ hash: digest(key), scope: 'inference' as const })),
      ...adminKeys.map((key) => ({ hash: digest(key), scope: 'admin' as const })),
    ];
  }

  /** No keys at all: the server is open (allowed on loopback only). */
  get isOpen(): boolean {
    return this.entries.length === 0;
  }

  get hasAdminKeys(): boolean {
    return this.entries.some((e) => e.scope === 'admin');
  }

  /** The presented key's scope (admin wins when a key is in both lists), or null. */
  match(presented: string): KeyMatch | null {
    const hash = digest(presented);
    let scope: Scope | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(hash, entry.hash) && scope !== 'admin') scope = entry.scope;
    }
    return scope === null ? null : { scope, id: hash.toString('hex').slice(0, 8) };
  }
}
