// Deterministic seeds for weight initializers and per-step randomness. TensorFlow.js draws seeded random
// numbers in JavaScript (seedrandom's alea), so a seeded initializer gives the same weights on every backend.

/**
 * Mixes integers into one 32-bit seed (a splitmix-style hash), so nearby inputs give unrelated seeds.
 * Example: `mixSeeds(runSeed, epoch, step)`.
 */
export function mixSeeds(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Fold in the high bits of integers beyond 32 bits, so large seeds do not collide.
    h = Math.imul(h ^ Math.floor(part / 2 ** 32), 0x27d4eb2f);
  }
  return (h >>> 0) % 2147483647;
}

/**
 * Hands out one distinct seed per weight tensor of a model, in construction order.
 * With `seed === undefined` every call returns undefined, i.e. TensorFlow.js's unseeded initializers.
 */
export class SeedSequence {
  private next = 0;
  constructor(private readonly seed: number | undefined) {}
  take(): number | undefined {
    return this.seed === undefined ? undefined : mixSeeds(this.seed, this.next++);
  }
}
