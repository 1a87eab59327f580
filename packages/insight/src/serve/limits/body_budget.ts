// Bytes of request bodies in flight, bounded: a request with a large body reserves its declared size (or the body
// limit when chunked) before its body is read and gives it back when answered, first come first served. Requests
// over the budget wait with their bytes still in the kernel's socket buffers, so memory stays flat under big-body
// floods and the event loop is not shared among many huge parses; a waiting client is cut by --request-timeout-ms.
export class BodyBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  /** capacity: bytes of bodies read at once (a request larger than it still gets through, alone). */
  constructor(readonly capacity: number) {}

  /** Resolves once `bytes` are reserved; call the returned function exactly once to give them back. */
  async acquire(bytes: number): Promise<() => void> {
    const want = Math.min(bytes, this.capacity);
    if (this.waiting.length === 0 && this.used + want <= this.capacity) {
      this.used += want;
    } else {
      await new Promise<void>((resolve) => this.waiting.push({ bytes: want, grant: resolve }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= want;
      this.grantWaiting();
    };
  }

  /** Bytes reserved now, and requests waiting (tests, metrics). */
  get inFlight(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
