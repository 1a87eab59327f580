// Expected and maximum calibration error (Guo et al. 2017, "On Calibration of Modern Neural Networks"): the top-1
// confidence of every example is put in one of `bins` equal-width bins, bin m holding confidences in
// ((m-1)/M, m/M] (bin 1 also holds 0); per bin, the accuracy and the mean confidence; ECE = Σ_m |B_m|/n ·
// |acc(B_m) - conf(B_m)|, MCE = max over non-empty bins of |acc - conf|. One pass of tensor ops over [n, C]:
// the per-bin sums are a [bins, n] membership matrix times the [n, 3] (1, confidence, correct) matrix product.
import { tf } from '../backend';
import { ruleError } from '../errors';
import { DEFAULT_CALIBRATION_BINS } from './config';

/** One confidence bin (lower, upper]: how many examples, their accuracy and mean top-1 confidence (null when empty). */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  accuracy: number | null;
  confidence: number | null;
}

/** Calibration of a set of predictions: ECE and MCE (fractions, 0..1), and the bins the reliability diagram draws. */
export interface Calibration {
  /** Expected calibration error: the count-weighted mean gap |accuracy - confidence| over the bins. */
  ece: number;
  /** Maximum calibration error: the largest gap of a non-empty bin. */
  mce: number;
  /** Examples measured. */
  count: number;
  /** Top-1 accuracy and mean top-1 confidence over all examples. */
  accuracy: number;
  confidence: number;
  bins: CalibrationBin[];
}

/** Checks a bin count: an integer 1..1000. */
export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000) {
    throw ruleError('INSIGHT_E_CONFIG', 'The number of calibration bins must be an integer from 1 to 1000.', { bins },
      `Pass e.g. --bins ${DEFAULT_CALIBRATION_BINS} (Guo et al. 2017).`);
  }
}

/**
 * ECE, MCE and the per-bin figures of `probabilities` [n, numClasses] (row-major; rows sum to 1) against `labels` [n].
 * The predicted class is the first of the largest probabilities (argmax), as evaluate's accuracy counts it.
 */
export function calibrationOf(probabilities: Float32Array, labels: Int32Array, numClasses: number, bins = DEFAULT_CALIBRATION_BINS): Calibration {
  checkBins(bins);
  const n = labels.length;
  if (probabilities.length !== n * numClasses) {
    throw ruleError('INSIGHT_E_CONFIG', 'Calibration needs one row of numClasses probabilities per label.',
      { probabilities: probabilities.length, labels: n, numClasses }, 'Pass probabilities of shape [labels, numClasses].');
  }
  // [bins, 3] per bin: count, Σ confidence, Σ correct.
  const sums = n === 0 ? new Float32Array(bins * 3) : tf.tidy(() => {
    const p = tf.tensor2d(probabilities, [n, numClasses]);
    const confidence = tf.max(p, 1);
    const correct = tf.cast(tf.equal(tf.argMax(p, 1), tf.tensor1d(labels, 'int32')), 'float32');
    // Bin of (m-1)/M < c <= m/M is m-1; c = 0 goes to the first bin, c > 1 (rounding) to the last.
    const bin = tf.clipByValue(tf.sub(tf.ceil(tf.mul(confidence, bins)), 1), 0, bins - 1); // [n], whole numbers
    const member = tf.cast(tf.equal(tf.expandDims(bin, 1), tf.expandDims(tf.range(0, bins), 0)), 'float32'); // [n, bins] one-hot
    const columns = tf.stack([tf.onesLike(confidence), confidence, correct], 1); // [n, 3]
    return tf.matMul(member, columns, true, false); // [bins, 3]
  }).dataSync() as Float32Array;
  const table: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  let confidenceSum = 0;
  let correctSum = 0;
  for (let m = 0; m < bins; m++) {
    const count = Math.round(sums[m * 3]);
    const accuracy = count === 0 ? null : sums[m * 3 + 2] / count;
    const confidence = count === 0 ? null : sums[m * 3 + 1] / count;
    table.push({ lower: m / bins, upper: (m + 1) / bins, count, accuracy, confidence });
    confidenceSum += sums[m * 3 + 1];
    correctSum += sums[m * 3 + 2];
    if (count === 0) continue;
    const gap = Math.abs(accuracy! - confidence!);
    ece += (count / n) * gap;
    mce = Math.max(mce, gap);
  }
  return {
    ece: n === 0 ? NaN : ece,
    mce: n === 0 ? NaN : mce,
    count: n,
    accuracy: n === 0 ? NaN : correctSum / n,
    confidence: n === 0 ? NaN : confidenceSum / n,
    bins: table,
  };
}
