// Seeded random streams. Every stream is named by a key such as (seed, epoch, batch), so a draw never depends
// on which thread made it or in which order batches were scheduled.
import seedrandom from 'seedrandom';

/** A function returning uniform floats in [0, 1). */
export type Rng = () => number;

/** The stream for `(seed, ...keys)`; the same key always yields the same sequence (Alea generator). */
export function streamRng(seed: number, ...keys: (string | number)[]): Rng {
  return seedrandom.alea([seed, ...keys].join(':'));
}

/** An integer in [0, n) drawn from `rng`. */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  return order;
}

/** A fresh seed for callers that did not pass one (31 bits, so it prints and round-trips as a plain integer). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
