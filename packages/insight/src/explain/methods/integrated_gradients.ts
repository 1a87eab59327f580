// Integrated Gradients (Sundararajan et al. 2017): attributions = (x − x') ⊙ ∫₀¹ ∂ logit(x' + α (x − x')) / ∂ x dα,
// from a baseline x' (baselines.ts: black, blurred, noise) to the image x. map = sum over channels (signed) [n, H, W].
//
// The integral, by the trapezoid rule on `steps` points (Captum's 'riemann_trapezoid'): α_k = k / (steps − 1),
// k = 0..steps−1, weights 1 / (steps − 1) except the two ends, 1 / (2 (steps − 1)); one gradient per point.
// Completeness: Σ attributions ≈ logit(x) − logit(x'); convergenceDelta = Σ attributions − (logit(x) − logit(x')).
//
// Rows r = i·steps + k (image i, point k) are evaluated in passes of at most internalBatchSize rows (a pass may span
// images) and summed per image, so memory is bounded by internalBatchSize whatever steps × images is.
import { tf } from '../../backend';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { igBaseline } from '../baselines';
import { forEachChunk, sumByImage, targetGradients, targetScoresInChunks } from './target_score';

/** Trapezoid points and weights on [0, 1]: alphas[k] = k / (steps − 1), weights summing to 1. */
export function trapezoidRule(steps: number): { alphas: Float32Array; weights: Float32Array } {
  const alphas = Float32Array.from({ length: steps }, (_, k) => k / (steps - 1));
  const weights = Float32Array.from({ length: steps }, (_, k) => (k === 0 || k === steps - 1 ? 0.5 : 1) / (steps - 1));
  return { alphas, weights };
}

/**
 * Integrated Gradients: x [n, H, W, C] normalized images, targets [n] → map [n, H, W] (signed), attributions
 * [n, H, W, C] and convergenceDelta [n]. Example: `await integratedGradients(model, x, Int32Array.of(3), { ...METHOD_DEFAULTS, steps: 64 })`.
 */
export const integratedGradients: AttributionMethod = async (model, x, targets, options: MethodOptions): Promise<Attribution> => {
  const [n] = x.shape;
  const { steps } = options;
  const { alphas, weights } = trapezoidRule(steps);
  const baseline = igBaseline(x, options);
  const diff = tf.sub(x, baseline) as tf.Tensor4D;
  let integral = tf.zerosLike(x) as tf.Tensor4D; // Σ_k w_k ∂ logit / ∂ x at the path's points, per image
  try {
    await forEachChunk(n * steps, options.internalBatchSize, (start, end) => {
      const rows = Array.from({ length: end - start }, (_, j) => start + j);
      const next = tf.tidy(() => {
        const images = tf.tensor1d(rows.map((r) => Math.floor(r / steps)), 'int32');
        const column = (values: number[]) => tf.tensor4d(values, [values.length, 1, 1, 1]);
        const points = tf.add(tf.gather(baseline, images), tf.mul(column(rows.map((r) => alphas[r % steps])), tf.gather(diff, images))) as tf.Tensor4D;
        const gradients = targetGradients(model, points, tf.gather(tf.tensor1d(targets, 'int32'), images));
        return tf.add(integral, sumByImage(tf.mul(gradients, column(rows.map((r) => weights[r % steps]))), images, n)) as tf.Tensor4D;
      });
      integral.dispose();
      integral = next;
    });
    const atImage = await targetScoresInChunks(model, x, targets, options.internalBatchSize);
    const atBaseline = await targetScoresInChunks(model, baseline, targets, options.internalBatchSize);
    const attributions = tf.mul(diff, integral) as tf.Tensor4D;
    const totals = tf.sum(attributions, [1, 2, 3]);
    const convergenceDelta = Float32Array.from(totals.dataSync(), (total, i) => total - (atImage[i] - atBaseline[i]));
    totals.dispose();
    const map = tf.sum(attributions, 3) as tf.Tensor3D;
    return { method: 'ig', map, attributions, convergenceDelta };
  } finally {
    tf.dispose([baseline, diff, integral]);
  }
};
