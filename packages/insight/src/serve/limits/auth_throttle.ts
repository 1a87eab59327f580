// Failed authentication, throttled per client (an IPv4 address, or an IPv6 /64: client_network.ts): every 401
// takes a token from the client's bucket (AUTH_FAILURE_BURST tokens, refilled at AUTH_FAILURE_RATE per second);
// with the bucket empty, requests from that client that need a key get 429 before their key is even compared, so guessing keys costs real time. Successful
// requests take nothing. Buckets that have refilled are dropped on a sweep (memory bounded by recent offenders).
import { clientNetwork } from './client_network';
import { TokenBucket } from './token_bucket';

/** Failures an address may have in a burst before 429s start. */
export const AUTH_FAILURE_BURST = 20;
/** Failures per second an address earns back (one every 5 s). */
export const AUTH_FAILURE_RATE = 0.2;

export class AuthThrottle {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweepMs = 0;

  constructor(readonly burst = AUTH_FAILURE_BURST, readonly rate = AUTH_FAILURE_RATE, private readonly now: () => number = Date.now) {}

  /** 0 when `address` may try a key, else the seconds until it may. */
  wait(address: string): number {
    return this.buckets.get(clientNetwork(address))?.peek(this.now()) ?? 0;
  }

  /** Records a failed authentication from `address`. */
  fail(address: string): void {
    const nowMs = this.now();
    this.sweep(nowMs);
    const client = clientNetwork(address);
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.rate, this.burst, nowMs);
      this.buckets.set(client, bucket);
    }
    bucket.take(nowMs);
  }

  /** Clients (addresses, IPv6 /64s) with recent failures (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < 10_000) return;
    this.lastSweepMs = nowMs;
    for (const [address, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(address);
  }
}
