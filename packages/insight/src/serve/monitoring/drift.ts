// Drift of one served model: what it has been asked lately against what it was trained on (the
// TrainingDistribution in its metadata, written by `insight train`). Over a sliding window of the last
// `windowSize` instances (whole batches: the oldest batch leaves once the rest still fill the window) it keeps
// per-channel sums of the normalized input and a count of predicted classes, from which it reports the
// per-channel mean/std and the Population Stability Index of the predicted classes against the training class
// frequencies. A batch is reduced on the backend (tf ops on the batch tensor), so only [channels] and
// [numClasses] numbers reach JS.
import { tf } from '../../backend';
import type { TrainingDistribution } from '../../models/metadata';

/** Batch aggregates: rows, values per channel (rows x pixels), per-channel sum and sum of squares, predicted-class counts. */
interface BatchStats {
  rows: number;
  values: number;
  sum: Float64Array;
  sumSquares: Float64Array;
  classCounts: Float64Array;
}

export interface DriftSnapshot {
  /** Instances in the window. */
  instances: number;
  /** [channels] over the window's normalized inputs (compare with the training distribution's). */
  channelMean: number[];
  channelStd: number[];
  /** [numClasses]: share of the window's predictions in each class. */
  predictedShare: number[];
  /** PSI of predictedShare against the training class frequencies (0 = same; > 0.25 is usually read as a shift). */
  psi: number;
}

/** Shares below this count as this much, so an empty class gives a large but finite PSI term. */
const PSI_FLOOR = 1e-4;

/**
 * PSI = sum_i (actual_i - expected_i) * ln(actual_i / expected_i), shares floored at 1e-4.
 * Example: `psi([0.5, 0.5], [0.5, 0.5]) === 0`.
 */
export function psi(actual: readonly number[], expected: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Math.max(actual[i] ?? 0, PSI_FLOOR);
    const e = Math.max(expected[i], PSI_FLOOR);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

export class DriftWindow {
  private readonly batches: BatchStats[] = [];
  private instances = 0;
  private readonly channels: number;
  private readonly numClasses: number;

  constructor(readonly reference: TrainingDistribution, readonly windowSize = 1024) {
    this.channels = reference.channelMean.length;
    this.numClasses = reference.classFrequencies.length;
  }

  /** x: [rows, ...pixels, channels] normalized floats (row-major, channels last); probabilities: [rows, numClasses]. */
  observe(x: Float32Array, rows: number, probabilities: Float32Array): void {
    if (rows === 0 || x.length % (rows * this.channels) !== 0 || probabilities.length !== rows * this.numClasses) return;
    const [sum, sumSquares, counts] = tf.tidy(() => {
      const values = tf.tensor2d(x, [x.length / this.channels, this.channels]);
      const predicted = tf.argMax(tf.tensor2d(probabilities, [rows, this.numClasses]), 1);
      return [tf.sum(values, 0), tf.sum(tf.square(values), 0), tf.sum(tf.oneHot(predicted, this.numClasses), 0)];
    });
    try {
      this.batches.push({
        rows,
        values: x.length / this.channels,
        sum: Float64Array.from(sum.dataSync()),
        sumSquares: Float64Array.from(sumSquares.dataSync()),
        classCounts: Float64Array.from(counts.dataSync()),
      });
    } finally {
      tf.dispose([sum, sumSquares, counts]);
    }
    this.instances += rows;
    while (this.batches.length > 1 && this.instances - this.batches[0].rows >= this.windowSize) this.instances -= this.batches.shift()!.rows;
  }

  /** The window's statistics, or null before the first instance. */
  snapshot(): DriftSnapshot | null {
    if (this.instances === 0) return null;
    const sum = new Float64Array(this.channels);
    const sumSquares = new Float64Array(this.channels);
    const counts = new Float64Array(this.numClasses);
    let values = 0;
    for (const b of this.batches) {
      values += b.values;
      for (let c = 0; c < this.channels; c++) {
        sum[c] += b.sum[c];
        sumSquares[c] += b.sumSquares[c];
      }
      for (let k = 0; k < this.numClasses; k++) counts[k] += b.classCounts[k];
    }
    const channelMean = Array.from(sum, (s) => s / values);
    const channelStd = Array.from(sumSquares, (s, c) => Math.sqrt(Math.max(s / values - channelMean[c] ** 2, 0)));
    const predictedShare = Array.from(counts, (n) => n / this.instances);
    return { instances: this.instances, channelMean, channelStd, predictedShare, psi: psi(predictedShare, this.reference.classFrequencies) };
  }
}
