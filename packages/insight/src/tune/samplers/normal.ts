// The normal-distribution pieces the Parzen estimators need, in plain JS on a few numbers: log of a standard normal
// mass over [a, b] (accurate far in the tails, so a narrow kernel far from x gives a finite log density, not
// log(0)), the log density, and draws (Box-Muller; truncated by rejection, the kernel's mean lies inside the bounds).
import type { Rng } from '../../data/random';

const LOG_HALF = Math.log(0.5);
const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log erfc(x) for x >= 0, from the Chebyshev fit of Numerical Recipes (erfcc: relative error < 1.2e-7 everywhere),
 * kept in log form so it does not underflow: erfc(x) = t · exp(-x² + P(t)), t = 1 / (1 + x/2).
 */
function logErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + p;
}

/** log P(Z > z) for z >= 0, Z ~ N(0, 1); -Infinity at z = Infinity. */
function logUpperTail(z: number): number {
  return z === Infinity ? -Infinity : LOG_HALF + logErfc(z / SQRT2);
}

/** log P(a <= Z <= b), Z ~ N(0, 1), a <= b (either may be infinite). */
export function logGaussMass(a: number, b: number): number {
  if (a >= 0) {
    // Both in the upper tail: P(Z > a) - P(Z > b) = P(Z > a) · (1 - P(Z > b) / P(Z > a)).
    const [la, lb] = [logUpperTail(a), logUpperTail(b)];
    return la + Math.log1p(-Math.exp(lb - la));
  }
  if (b <= 0) return logGaussMass(-b, -a);
  // a < 0 < b: one minus both tails.
  return Math.log1p(-(Math.exp(logUpperTail(-a)) + Math.exp(logUpperTail(b))));
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return z >= 0 ? 1 - Math.exp(logUpperTail(z)) : Math.exp(logUpperTail(-z));
}

/** log of the N(mu, sigma²) density at x. */
export function logNormalPdf(x: number, mu: number, sigma: number): number {
  const z = (x - mu) / sigma;
  return -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma);
}

/** One N(0, 1) draw (Box-Muller, two uniforms). */
function standardNormal(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]: log is finite
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One draw of N(mu, sigma²) truncated to [low, high]; mu in [low, high], so at least about half the draws land. */
export function truncatedNormal(rng: Rng, mu: number, sigma: number, low: number, high: number): number {
  for (let tries = 0; tries < 1000; tries++) {
    const x = mu + sigma * standardNormal(rng);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu)); // unreachable in practice: the mean is inside
}

/** log Σ exp(values), stable. */
export function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}
