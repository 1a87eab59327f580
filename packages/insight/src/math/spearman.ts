// Spearman's rank correlation: Pearson's correlation of the two samples' ranks, tied values sharing the average of
// the ranks they span (the definition scipy.stats.spearmanr uses). Used by the model-randomisation sanity check of
// explanations (two heat maps of one image, flattened).
import { ruleError } from '../errors';

/**
 * 1-based ranks of `values` (smallest = 1); a run of equal values gets the mean of the ranks it spans.
 * Example: `averageRanks([10, 20, 20, 30])` → [1, 2.5, 2.5, 4].
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 (0-based) hold equal values: ranks start+1..end, mean (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's ρ of two equally long samples, in [-1, 1]; NaN when either sample is constant (its ranks have no
 * variance, so no ordering to compare). Values must be finite.
 * Example: `spearman([1, 2, 3, 4], [10, 30, 20, 40])` → 0.8.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'Spearman correlation needs two samples of the same length, at least 2.',
      { 'a.length': a.length, 'b.length': b.length }, 'Pass two flattened maps of the same image size.');
  }
  const bad = firstNonFinite(a) ?? firstNonFinite(b);
  if (bad !== undefined) {
    throw ruleError('INSIGHT_E_CONFIG', 'Spearman correlation needs finite values.', { index: bad.index, value: bad.value },
      'Check the maps for NaN or infinity (an attribution method that overflowed) before correlating them.');
  }
  return pearson(averageRanks(a), averageRanks(b));
}

function firstNonFinite(values: ArrayLike<number>): { index: number; value: number } | undefined {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return { index: i, value: values[i] };
  return undefined;
}

/** Pearson's correlation of two equally long samples; NaN when either has zero variance. */
function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can put |ρ| a hair above 1 for identical rankings.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}
