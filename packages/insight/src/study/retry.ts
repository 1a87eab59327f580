// Bounded retries with jittered exponential backoff, for the conditions a study storage expects under parallel
// workers: SQLite's SQLITE_BUSY beyond its busy timeout, PostgreSQL's serialization failures and dropped
// connections. Jitter keeps workers that collided once from colliding again in lockstep.

export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number;
  /** The first backoff; each next one doubles, up to capMs. */
  baseMs: number;
  capMs: number;
}

export interface GiveUp {
  error: unknown;
  /** Tries made, the first one included. */
  attempts: number;
  waitedMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, retrying while `transient(error)` and tries remain (each wait uniform in
 * [½, 1] × min(capMs, baseMs·2^k)); then rethrows `giveUp(...)` for a transient error, or the error itself otherwise.
 */
export async function withRetry<T>(attempt: () => T | Promise<T>, transient: (error: unknown) => boolean, policy: RetryPolicy,
  giveUp: (failure: GiveUp) => Error): Promise<T> {
  const start = Date.now();
  for (let k = 0; ; k++) {
    try {
      return await attempt();
    } catch (error) {
      if (!transient(error)) throw error;
      if (k >= policy.retries) throw giveUp({ error, attempts: k + 1, waitedMs: Date.now() - start });
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** k);
      await sleep(ceiling * (0.5 + Math.random() / 2));
    }
  }
}
