// Deterministic test inputs: `n` numbers in [lo, hi) from a small LCG (Numerical Recipes' constants), the same on
// every run and platform, so a failing case can be rerun as it was.
export function random(n: number, lo: number, hi: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return lo + (hi - lo) * (s / 4294967296);
  });
}
