// Saliency (Simonyan et al. 2014, section 3.1): the gradient of the target logit with respect to the input pixels.
// attributions = ∂ logit / ∂ x [n, H, W, C] (signed, raw); map = max over channels of |gradient| [n, H, W] ≥ 0.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { forEachChunk, rowsOf, targetGradients } from './target_score';

/** ∂ logit_target / ∂ x for x [n, H, W, C], in passes of at most internalBatchSize images → [n, H, W, C]. */
export async function inputGradients(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, internalBatchSize: number): Promise<tf.Tensor4D> {
  const parts: tf.Tensor4D[] = [];
  try {
    await forEachChunk(x.shape[0], internalBatchSize, (start, end) => {
      parts.push(tf.tidy(() => targetGradients(model, rowsOf(x, start, end), tf.tensor1d(targets.subarray(start, end), 'int32'))));
    });
  } catch (error) {
    tf.dispose(parts);
    throw error;
  }
  if (parts.length === 1) return parts[0];
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

/**
 * Saliency: x [n, H, W, C] normalized images, targets [n] → map [n, H, W] = max_c |∂ logit / ∂ x|, with the raw
 * gradients as attributions. Example: `const { map } = await saliency(model, x, Int32Array.of(3), METHOD_DEFAULTS)`.
 */
export const saliency: AttributionMethod = async (model, x, targets, options: MethodOptions): Promise<Attribution> => {
  const attributions = await inputGradients(model, x, targets, options.internalBatchSize);
  const map = tf.tidy(() => tf.max(tf.abs(attributions), 3) as tf.Tensor3D);
  return { method: 'saliency', map, attributions };
};
