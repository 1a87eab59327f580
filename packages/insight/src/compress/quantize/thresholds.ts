// Clipping thresholds from a histogram of activations: percentiles (onnxruntime's percentile calibrator, on the
// bins) and the entropy threshold of TensorRT's int8 calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017;
// as NVIDIA's pytorch-quantization computes it). Plain loops over the 2048 bins, never over elements.
import { binEdge, type Histogram } from './histogram';

/**
 * The upper clipping value that keeps at least `fraction` of the histogram's mass: the upper edge of the first bin
 * at which the cumulative count reaches fraction · total (hi when fraction is 1). fraction in (0, 1].
 */
export function upperPercentile(h: Histogram, fraction: number): number {
  const total = totalOf(h);
  const goal = fraction * total;
  let cumulative = 0;
  for (let k = 0; k < h.counts.length; k++) {
    cumulative += h.counts[k];
    if (cumulative >= goal) return binEdge(h, k + 1);
  }
  return h.hi;
}

/**
 * The lower clipping value that cuts at most `fraction` of the mass below it: the lower edge of the first bin at which
 * the cumulative count exceeds fraction · total. fraction in [0, 1).
 */
export function lowerPercentile(h: Histogram, fraction: number): number {
  const total = totalOf(h);
  const goal = fraction * total;
  let cumulative = 0;
  for (let k = 0; k < h.counts.length; k++) {
    cumulative += h.counts[k];
    if (cumulative > goal) return binEdge(h, k);
  }
  return h.hi;
}

/** The first threshold bin tried by the entropy search (TensorRT's 128). */
export const ENTROPY_START_BIN = 128;
/** The mass given to each empty bin before the divergence (onnxruntime's and MXNet's smooth_distribution). */
const SMOOTHING = 1e-4;

/**
 * TensorRT's entropy threshold for a histogram of |x| over [0, amax] (h.lo = 0): for every candidate threshold bin i
 * from 128 to bins, the reference P is the counts of bins [0, i) with the counts beyond added to bin i − 1; the
 * candidate Q spreads bins [0, i) over `levels` quantisation levels (each level's count shared evenly among its
 * non-empty bins, empty bins stay empty); both are smoothed as onnxruntime does (every empty bin gets 1e-4, taken
 * evenly from the others, so an outlier beyond an empty bin costs a large but finite divergence) and the threshold
 * is the upper edge of the i with the smallest KL(P ‖ Q) (the largest such i on ties).
 * levels: 128 for a signed tensor (int8's positive half), 256 for a non-negative one (all of uint8).
 * The zero bin takes its neighbour's count first, as pytorch-quantization does: a post-ReLU tensor is mostly exact
 * zeros, which every threshold represents exactly and which would otherwise drown the divergence.
 */
export function entropyThreshold(h: Histogram, levels: number): number {
  const bins = Float64Array.from(h.counts);
  const n = bins.length;
  if (n > 1) bins[0] = bins[1];
  let total = 0;
  for (let k = 0; k < n; k++) total += bins[k];
  if (total === 0) return h.hi;
  const levelSum = new Float64Array(levels);
  const levelNonEmpty = new Float64Array(levels);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let inside = 0; // Σ bins[0, i)
  for (let k = 0; k < Math.min(ENTROPY_START_BIN, n) - 1; k++) inside += bins[k];
  let best = Infinity;
  let bestBin = n;
  for (let i = Math.min(ENTROPY_START_BIN, n); i <= n; i++) {
    inside += bins[i - 1];
    levelSum.fill(0);
    levelNonEmpty.fill(0);
    for (let j = 0; j < i; j++) {
      if (bins[j] === 0) continue;
      const level = Math.floor((j * levels) / i);
      levelSum[level] += bins[j];
      levelNonEmpty[level] += 1;
    }
    for (let j = 0; j < i; j++) {
      p[j] = bins[j];
      q[j] = bins[j] === 0 ? 0 : levelSum[Math.floor((j * levels) / i)] / levelNonEmpty[Math.floor((j * levels) / i)];
    }
    p[i - 1] += total - inside;
    const divergence = smooth(p, i) && smooth(q, i) ? klDivergence(p, q, i, total, inside) : Infinity;
    if (divergence <= best) {
      best = divergence;
      bestBin = i;
    }
  }
  return binEdge(h, bestBin);
}

/** Gives each empty entry of a[0, length) SMOOTHING, taken evenly from the others; false if one would drop to <= 0. */
function smooth(a: Float64Array, length: number): boolean {
  let zeros = 0;
  for (let j = 0; j < length; j++) if (a[j] === 0) zeros++;
  const nonZeros = length - zeros;
  if (nonZeros === 0) return false;
  const take = (SMOOTHING * zeros) / nonZeros;
  for (let j = 0; j < length; j++) {
    if (a[j] === 0) a[j] = SMOOTHING;
    else if ((a[j] -= take) <= 0) return false;
  }
  return true;
}

/** KL(p ‖ q) of two count vectors over [0, length) with sums pSum and qSum (smoothing keeps the sums). */
function klDivergence(p: Float64Array, q: Float64Array, length: number, pSum: number, qSum: number): number {
  let divergence = 0;
  for (let j = 0; j < length; j++) {
    const pj = p[j] / pSum;
    divergence += pj * Math.log(pj / (q[j] / qSum));
  }
  return divergence;
}

function totalOf(h: Histogram): number {
  let total = 0;
  for (let k = 0; k < h.counts.length; k++) total += h.counts[k];
  return total;
}
