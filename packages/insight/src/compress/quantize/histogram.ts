// Histograms of activations for percentile and entropy calibration, computed on the backend: each element's bin
// index by tf ops, the counts by tf.bincount, so only the bin counts (2048 numbers) come back to JavaScript and the
// memory stays flat however many images are calibrated. Each tensor's bins span a fixed range measured beforehand
// (calibration's first pass, the running min and max), so the histograms of all batches add up exactly.
import { tf } from '../../backend';

/** The bin count of TensorRT's entropy calibration (and onnxruntime's histogram calibrators' default). */
export const HISTOGRAM_BINS = 2048;

/** Bin counts over [lo, hi]: bin k holds lo + k·w ≤ v < lo + (k + 1)·w with w = (hi − lo) / bins; hi goes to the last. */
export interface Histogram {
  lo: number;
  hi: number;
  counts: Float64Array;
}

export function emptyHistogram(lo: number, hi: number, bins = HISTOGRAM_BINS): Histogram {
  return { lo, hi, counts: new Float64Array(bins) };
}

/** edges[k] = lo + k·(hi − lo) / bins, k = 0..bins (edges[bins] = hi). */
export function binEdge(h: Histogram, k: number): number {
  return k === h.counts.length ? h.hi : h.lo + k * ((h.hi - h.lo) / h.counts.length);
}

/**
 * The bin counts of `values` (any shape; its |x| when `absolute`) over [h.lo, h.hi] as a [bins] float32 tensor;
 * values outside the range fall into the first or last bin. Call inside tf.tidy; add it with addCounts.
 */
export function binCounts(values: tf.Tensor, h: Histogram, absolute: boolean): tf.Tensor1D {
  const bins = h.counts.length;
  const x = tf.reshape(absolute ? tf.abs(values) : values, [-1]);
  if (!(h.hi > h.lo)) return tf.bincount(tf.zeros([x.size], 'int32') as tf.Tensor1D, tf.tensor1d([], 'float32'), bins);
  const scaled = tf.mul(tf.sub(x, h.lo), bins / (h.hi - h.lo));
  const index = tf.cast(tf.clipByValue(tf.floor(scaled), 0, bins - 1), 'int32') as tf.Tensor1D;
  return tf.bincount(index, tf.tensor1d([], 'float32'), bins);
}

/** h.counts += counts (read from the backend; float32 counts are exact below 2^24 per bin and batch). */
export function addCounts(h: Histogram, counts: Float32Array): void {
  for (let k = 0; k < counts.length; k++) h.counts[k] += counts[k];
}
