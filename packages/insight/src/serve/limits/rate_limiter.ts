// Per-client rate limiting: one token bucket per API key id (or client address when the server has no keys).
// Buckets that have refilled completely are dropped on a sweep, so memory is bounded by the clients active
// in the last `burst / rate` seconds.
import { TokenBucket } from './token_bucket';

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweepMs = 0;

  /** rate: tokens/s (0 = unlimited); burst: bucket size. */
  constructor(readonly rate: number, readonly burst: number, private readonly now: () => number = Date.now) {}

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** 0 when `client` may proceed, else the seconds until it may retry. */
  check(client: string): number {
    if (!this.enabled) return 0;
    const nowMs = this.now();
    this.sweep(nowMs);
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.rate, this.burst, nowMs);
      this.buckets.set(client, bucket);
    }
    return bucket.take(nowMs);
  }

  /** Number of tracked clients (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < 10_000) return;
    this.lastSweepMs = nowMs;
    for (const [client, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(client);
  }
}
