// Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhyay et al. 2018): a class activation map from one
// convolutional layer's activations A [n, h, w, k], each channel weighted by what the target logit's gradient
// dA says about it; cam = ReLU(Σ_k w_k A_k) [n, h, w], upsampled to the input's size bilinearly with half-pixel
// centres (PyTorch's F.interpolate(mode='bilinear', align_corners=False)). Maps are not normalized (renderers do).
// The whole batch goes through one forward and one backward pass (per internalBatchSize rows).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { camLayer, layerGradients, layerTap } from '../layer_tap';
import { forEachChunk, rowsOf } from './target_score';

/** Channel weights from activations and gradients, both [n, h, w, k] → [n, 1, 1, k]. */
export type CamWeighting = (activations: tf.Tensor4D, gradients: tf.Tensor4D) => tf.Tensor4D;

/** Grad-CAM: w_k = spatial mean of ∂y_c/∂A_k. */
export const gradCamWeights: CamWeighting = (_activations, gradients) => tf.mean(gradients, [1, 2], true);

/** pytorch-grad-cam's denominator guard, kept so maps match it where 2g² + ΣA·g³ is tiny. */
const PLUS_PLUS_EPSILON = 1e-6;

/**
 * Grad-CAM++ in the closed form pytorch-grad-cam uses (gradients of the logit, exponential folded away):
 * α = g² / (2g² + ΣA·g³ + 1e-6) where g ≠ 0, else 0, with ΣA the channel's spatial sum of activations;
 * w_k = Σ_ij α·ReLU(g).
 */
export const gradCamPlusPlusWeights: CamWeighting = (activations, gradients) => tf.tidy(() => {
  const g2 = tf.square(gradients);
  const g3 = tf.mul(g2, gradients);
  const sumA = tf.sum(activations, [1, 2], true);
  const alpha = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), PLUS_PLUS_EPSILON));
  const defined = tf.where(tf.notEqual(gradients, 0), alpha, tf.zerosLike(alpha));
  return tf.sum(tf.mul(defined, tf.relu(gradients)), [1, 2], true);
});

/** cam = ReLU(Σ_k w_k A_k): activations [n, h, w, k], weights [n, 1, 1, k] → [n, h, w]. */
export function layerCam(activations: tf.Tensor4D, weights: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.relu(tf.sum(tf.mul(activations, weights), -1)) as tf.Tensor3D);
}

/** cam [n, h, w] → [n, height, width], bilinear with half-pixel centres. */
export function upsampleCam(cam: tf.Tensor3D, height: number, width: number): tf.Tensor3D {
  return tf.tidy(() => tf.squeeze(tf.image.resizeBilinear(tf.expandDims(cam, -1) as tf.Tensor4D, [height, width], false, true), [3]) as tf.Tensor3D);
}

function camMethod(method: 'gradcam' | 'gradcam++', weigh: CamWeighting): AttributionMethod {
  return async (model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, options: MethodOptions): Promise<Attribution> => {
    const layer = camLayer(model, method, options.layer);
    const tap = layerTap(model, layer);
    const [n, height, width] = x.shape;
    const maps: tf.Tensor3D[] = [];
    let grid: [number, number] = [height, width];
    try {
      // Passes of at most internalBatchSize images, yielding to the event loop between them as the other methods do.
      await forEachChunk(n, Math.max(1, options.internalBatchSize), (start, end) => {
        maps.push(tf.tidy(() => {
          const { activations, gradients } = layerGradients(tap, rowsOf(x, start, end), targets.subarray(start, end));
          grid = [activations.shape[1], activations.shape[2]];
          return upsampleCam(layerCam(activations, weigh(activations, gradients)), height, width);
        }));
      });
    } catch (error) {
      tf.dispose(maps);
      throw error;
    }
    if (maps.length === 1) return { method, map: maps[0], layer, grid };
    const map = tf.concat(maps, 0);
    tf.dispose(maps);
    return { method, map, layer, grid };
  };
}

/**
 * Grad-CAM: x [n, H, W, C] normalized images, targets [n] → map [n, H, W] ≥ 0, and the layer read.
 * Example: `const { map, layer } = await gradCam(model, x, Int32Array.of(3), options)`.
 */
export const gradCam: AttributionMethod = camMethod('gradcam', gradCamWeights);

/** Grad-CAM++: as gradCam, with the channel weights of Chattopadhyay et al. (2018). */
export const gradCamPlusPlus: AttributionMethod = camMethod('gradcam++', gradCamPlusPlusWeights);
