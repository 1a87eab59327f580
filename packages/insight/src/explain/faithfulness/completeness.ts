// Completeness of Integrated Gradients (Sundararajan et al. 2017, section 3, proposition 1): the attributions of an
// image add up to the difference of the target logit between the image and the baseline. The check recomputes both
// logits itself, so it tests the method's attributions, not the convergence delta the method reports about itself.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { targetScoresInChunks } from '../methods/target_score';

/**
 * x, baseline, attributions: [n, H, W, C], targets: [n] → [n] relative completeness error per image,
 * |Σ attributions − (f(x) − f(baseline))| / |f(x) − f(baseline)|, f = the target's logit, evaluated in passes of at
 * most `batchSize` rows. 0 = complete (exact for a linear model); Infinity when the image and the baseline score the
 * same (nothing to attribute) but the attributions do not sum to 0.
 */
export async function completenessErrors(
  model: tfl.LayersModel, x: tf.Tensor4D, baseline: tf.Tensor4D, attributions: tf.Tensor4D, targets: Int32Array, batchSize: number,
): Promise<Float32Array> {
  const atImage = await targetScoresInChunks(model, x, targets, batchSize);
  const atBaseline = await targetScoresInChunks(model, baseline, targets, batchSize);
  const totals = tf.sum(attributions, [1, 2, 3]);
  const sums = await totals.data() as Float32Array;
  totals.dispose();
  return Float32Array.from(sums, (sum, i) => {
    const difference = atImage[i] - atBaseline[i];
    const error = Math.abs(sum - difference);
    return error === 0 ? 0 : error / Math.abs(difference);
  });
}

/** Mean and largest error over the images. */
export function summarizeCompleteness(errors: Float32Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (const e of errors) {
    sum += e;
    max = Math.max(max, e);
  }
  return { mean: sum / errors.length, max };
}
