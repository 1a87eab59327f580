// The reductions of calibration, over any number of tensors fed batch by batch (each batch gives one value of every
// tensor): min-max, percentile and entropy ranges as calibrate.ts describes them. Two passes over the same batches:
// observe() every batch (running min and max), then, for percentile and entropy, bin() every batch again into 2048
// bins over the observed range (of |x| where the range is symmetric or non-negative). Every reduction runs on the
// backend; one read per batch comes back (the extremes, or the bin counts).
import { tf } from '../../backend';
import type { ValueRange } from '../../onnx/quantization_params';
import { addCounts, binCounts, emptyHistogram, type Histogram } from './histogram';
import { entropyThreshold, lowerPercentile, upperPercentile } from './thresholds';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface RangeOptions {
  method: CalibrationMethod;
  /** Share of the values a percentile range keeps, in percent (default 99.99). */
  percentile?: number;
  /** Percentile of |x| ([-t, t], or [0, t] for a non-negative tensor) instead of the signed values' two tails. */
  symmetric?: boolean;
}

export class RangeCollector {
  private readonly observed: ValueRange[];
  private histograms: Histogram[] | null = null;
  private absolute: boolean[] = [];

  constructor(tensors: number, private readonly options: RangeOptions) {
    this.observed = Array.from({ length: tensors }, () => ({ min: Infinity, max: -Infinity }));
  }

  /** True when the ranges need the histograms of a second pass. */
  get needsHistograms(): boolean {
    return this.options.method !== 'minmax';
  }

  /** First pass: folds one batch of every tensor into the running min and max. The tensors stay the caller's. */
  async observe(batch: tf.Tensor[]): Promise<void> {
    const extremes = tf.tidy(() => tf.stack(batch.map((a) => tf.stack([tf.min(a), tf.max(a)]))));
    const values = await extremes.data();
    extremes.dispose();
    this.observed.forEach((r, t) => {
      r.min = Math.min(r.min, values[2 * t]);
      r.max = Math.max(r.max, values[2 * t + 1]);
    });
  }

  /** Second pass (after every observe): adds one batch of every tensor to its histogram. */
  async bin(batch: tf.Tensor[]): Promise<void> {
    if (this.histograms === null) {
      this.absolute = this.observed.map((r) => this.options.method === 'entropy' || this.options.symmetric === true || r.min >= 0);
      this.histograms = this.observed.map((r, t) => (this.absolute[t] ? emptyHistogram(0, Math.max(-r.min, r.max)) : emptyHistogram(r.min, r.max)));
    }
    const histograms = this.histograms;
    const bins = histograms[0].counts.length;
    const counts = tf.tidy(() => tf.stack(batch.map((a, t) => binCounts(a, histograms[t], this.absolute[t]))));
    const values = await counts.data() as Float32Array;
    counts.dispose();
    histograms.forEach((h, t) => addCounts(h, values.subarray(t * bins, (t + 1) * bins)));
  }

  /** The ranges, each widened to contain 0 (a quantised 0 is exact, as onnxruntime requires) and in float32. */
  ranges(): ValueRange[] {
    const keep = (this.options.percentile ?? 99.99) / 100;
    return this.observed.map((r, t) => {
      const h = this.histograms?.[t];
      if (this.options.method === 'minmax' || h === undefined) return withZero(r);
      return withZero(this.options.method === 'entropy' ? entropyRange(r, h) : percentileRange(r, h, this.absolute[t], keep));
    });
  }
}

function percentileRange(observed: ValueRange, h: Histogram, absolute: boolean, keep: number): ValueRange {
  if (absolute) {
    const t = upperPercentile(h, keep);
    return observed.min >= 0 ? { min: 0, max: t } : { min: -t, max: t };
  }
  const cut = (1 - keep) / 2;
  return { min: lowerPercentile(h, cut), max: upperPercentile(h, 1 - cut) };
}

/** [0, t] for a non-negative tensor (t from all 256 uint8 levels), else [-t, t] (128 levels a side) within what was seen. */
function entropyRange(observed: ValueRange, h: Histogram): ValueRange {
  const nonNegative = observed.min >= 0;
  const t = entropyThreshold(h, nonNegative ? 256 : 128);
  return nonNegative ? { min: 0, max: t } : { min: Math.max(-t, observed.min), max: Math.min(t, observed.max) };
}

function withZero(r: ValueRange): ValueRange {
  return { min: Math.fround(Math.min(r.min, 0)), max: Math.fround(Math.max(r.max, 0)) };
}
