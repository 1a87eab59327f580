// A token bucket: `rate` tokens per second refill a bucket of `burst` tokens; each request takes one.

export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(private readonly rate: number, private readonly burst: number, nowMs: number) {
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes a token if one is available (→ 0), else returns the seconds until one will be. */
  take(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.rate;
  }

  /** Like take() without taking: 0 when a token is available, else the seconds until one will be. */
  peek(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.rate;
  }

  /** True when the bucket is full again (its entry may be forgotten). */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.burst;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedMs) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    this.updatedMs = nowMs;
  }
}
