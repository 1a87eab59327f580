// Noise tunnels (Smilkov et al. 2017; Adebayo et al. 2018 for VarGrad): gradients of the target logit at `samples`
// noisy copies x + ε of each image, ε ~ N(0, σ²) with σ = noiseLevel × (max(x) − min(x)) over that image's values.
//   SmoothGrad:   attributions = mean g;             map = max over channels of |mean g|
//   SmoothGrad²:  attributions = mean g²;            map = max over channels of mean g²
//   VarGrad:      attributions = mean g² − (mean g)² (the population variance, ≥ 0);  map = max over channels of it
// Maps reduce over channels as saliency does (max), so with noiseLevel 0 SmoothGrad's map is saliency's, SmoothGrad²'s
// its square and VarGrad's 0.
//
// Noise: sample s draws one N(0, 1) field [H, W, C] from tf.randomNormal seeded by (seed, 'smoothgrad', s), shared by
// every image (scaled by the image's own σ), so an image's maps depend on the seed only, not on its batch-mates or on
// internalBatchSize. Rows r = i·samples + s run in passes of at most internalBatchSize rows, summed per image.
import { tf } from '../../backend';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { opSeed } from '../baselines';
import type { ExplainMethod } from '../method_names';
import { forEachChunk, sumByImage, targetGradients } from './target_score';

type NoiseTunnel = Extract<ExplainMethod, 'smoothgrad' | 'smoothgrad2' | 'vargrad'>;

/** Sum of gradients and of squared gradients over the noisy samples, per image: [n, H, W, C] each. */
async function noisyGradientSums(model: Parameters<AttributionMethod>[0], x: tf.Tensor4D, targets: Int32Array,
  options: MethodOptions): Promise<{ sum: tf.Tensor4D; sumOfSquares: tf.Tensor4D }> {
  const [n, height, width, channels] = x.shape;
  const { samples } = options;
  // σ per image [n, 1, 1, 1]
  const sigma = tf.tidy(() => tf.mul(tf.sub(tf.max(x, [1, 2, 3], true), tf.min(x, [1, 2, 3], true)), options.noiseLevel));
  // The samples' N(0, 1) fields [samples, H, W, C], drawn once (tf.randomNormal draws in JS: per row it would cost more
  // than the row's forward and backward pass), gathered per row.
  const fields = tf.tidy(() => tf.concat(Array.from({ length: samples },
    (_, s) => tf.randomNormal([1, height, width, channels], 0, 1, 'float32', opSeed(options.seed, 'smoothgrad', s)))));
  let sum = tf.zerosLike(x) as tf.Tensor4D;
  let sumOfSquares = tf.zerosLike(x) as tf.Tensor4D;
  try {
    await forEachChunk(n * samples, options.internalBatchSize, (start, end) => {
      const rows = Array.from({ length: end - start }, (_, j) => start + j);
      const [nextSum, nextSquares] = tf.tidy(() => {
        const images = tf.tensor1d(rows.map((r) => Math.floor(r / samples)), 'int32');
        const noise = tf.gather(fields, tf.tensor1d(rows.map((r) => r % samples), 'int32'));
        const noisy = tf.add(tf.gather(x, images), tf.mul(noise, tf.gather(sigma, images))) as tf.Tensor4D;
        const gradients = targetGradients(model, noisy, tf.gather(tf.tensor1d(targets, 'int32'), images));
        return [tf.add(sum, sumByImage(gradients, images, n)), tf.add(sumOfSquares, sumByImage(tf.square(gradients), images, n))] as tf.Tensor4D[];
      });
      tf.dispose([sum, sumOfSquares]);
      [sum, sumOfSquares] = [nextSum, nextSquares];
    });
    return { sum, sumOfSquares };
  } catch (error) {
    tf.dispose([sum, sumOfSquares]);
    throw error;
  } finally {
    tf.dispose([sigma, fields]);
  }
}

function noiseTunnel(method: NoiseTunnel): AttributionMethod {
  return async (model, x, targets, options: MethodOptions): Promise<Attribution> => {
    const { sum, sumOfSquares } = await noisyGradientSums(model, x, targets, options);
    try {
      const attributions = tf.tidy(() => {
        const mean = tf.div(sum, options.samples);
        const meanOfSquares = tf.div(sumOfSquares, options.samples);
        if (method === 'smoothgrad') return mean;
        if (method === 'smoothgrad2') return meanOfSquares;
        return tf.relu(tf.sub(meanOfSquares, tf.square(mean))); // E[g²] − E[g]², clamped: rounding can make it −1e-9
      }) as tf.Tensor4D;
      const map = tf.tidy(() => tf.max(method === 'smoothgrad' ? tf.abs(attributions) : attributions, 3) as tf.Tensor3D);
      return { method, map, attributions };
    } finally {
      tf.dispose([sum, sumOfSquares]);
    }
  };
}

/** SmoothGrad: x [n, H, W, C], targets [n] → map [n, H, W] = max_c |mean gradient| over noisy copies. */
export const smoothGrad: AttributionMethod = noiseTunnel('smoothgrad');

/** SmoothGrad²: map = max_c mean of squared gradients over noisy copies. */
export const smoothGradSquared: AttributionMethod = noiseTunnel('smoothgrad2');

/** VarGrad: map = max_c variance of the gradients over noisy copies. */
export const varGrad: AttributionMethod = noiseTunnel('vargrad');
