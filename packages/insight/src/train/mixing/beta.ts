// Seeded Gamma and Beta draws from the house uniform stream (data/random.ts), for Mixup's and CutMix's λ ~ Beta(α, α).
// One draw per micro-batch, so plain JS numbers (no tensors). Gamma is Marsaglia and Tsang (2000); shapes below 1
// use their boost Gamma(a) = Gamma(a + 1) · U^(1/a), kept in log space so that small α never underflows to 0/0.
import type { Rng } from '../../data/random';

/** A standard normal draw (Box-Muller on two uniforms; 1 - u keeps the logarithm's argument in (0, 1]). */
export function normalDraw(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** log of a Gamma(shape, 1) draw, shape > 0. */
export function logGammaDraw(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`Gamma shape must be a positive finite number, got ${shape}`);
  if (shape < 1) return logGammaDraw(rng, shape + 1) + Math.log(1 - rng()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normalDraw(rng);
    const t = 1 + c * z;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - rng();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return Math.log(d * v);
  }
}

/** A Beta(a, b) draw in [0, 1]: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), computed from their logarithms. */
export function betaDraw(rng: Rng, a: number, b: number): number {
  const logX = logGammaDraw(rng, a);
  const logY = logGammaDraw(rng, b);
  return 1 / (1 + Math.exp(logY - logX));
}
