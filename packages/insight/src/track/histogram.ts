// Histograms of tensor values in TensorBoard's HistogramProto form: min, max, count, sum, sum of squares, and
// equal-width buckets between min and max (bucket i covers (limit[i-1], limit[i]], the first starts at min),
// as TensorBoard's own histogram summaries draw them. Non-finite values (NaN, ±Infinity) are left out of every
// statistic and counted separately, so one exploding gradient does not erase the picture of the rest.
import type { Histogram } from './event_proto';

export const DEFAULT_BUCKETS = 30;

/** The histogram of the finite values of `values` (null when there are none), and how many were not finite. */
export function histogramOf(values: ArrayLike<number>, buckets = DEFAULT_BUCKETS): { histo: Histogram | null; nonFinite: number } {
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    num++;
    sum += v;
    sumSquares += v * v;
  }
  if (num === 0) return { histo: null, nonFinite };
  if (min === max) {
    return { histo: { min, max, num, sum, sum_squares: sumSquares, bucket_limit: [max], bucket: [num] }, nonFinite };
  }
  const width = (max - min) / buckets;
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    // Right-closed buckets: a value on an edge belongs to the bucket on its left (min goes to the first).
    const k = Math.min(buckets - 1, Math.max(0, Math.ceil((v - min) / width) - 1));
    counts[k]++;
  }
  const limits = counts.map((_, k) => (k === buckets - 1 ? max : min + (k + 1) * width));
  return { histo: { min, max, num, sum, sum_squares: sumSquares, bucket_limit: limits, bucket: counts }, nonFinite };
}
