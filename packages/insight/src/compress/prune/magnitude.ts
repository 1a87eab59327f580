// Magnitude pruning (Han et al. 2015; TF-MOT's prune_low_magnitude): the weights of smallest |w| are set to zero and
// kept there by a 0/1 mask of the kernel's shape. Global scope ranks every prunable kernel together (one threshold:
// layers with many small weights lose more), layer scope prunes each kernel to the target on its own. Exactly
// round(sparsity · n) weights are pruned (n: the kernel's, or all kernels' count): the threshold is the k-th smallest
// |w| found by topk on the backend, and ties at it (only zeros, in practice) are pruned too.
import { tf } from '../../backend';
import type { PrunableWeight } from './prunable';

export type PruneScope = 'global' | 'layer';

/** The k-th smallest value of `absValues` (1-based k >= 1), or -1 when k = 0 (nothing pruned). x: flat [n]. */
function kthSmallest(absValues: tf.Tensor1D, k: number): number {
  if (k <= 0) return -1;
  return tf.tidy(() => -(tf.slice(tf.topk(tf.neg(absValues), k, true).values, [k - 1], [1]).dataSync()[0]));
}

/**
 * 0/1 masks (float32, each of its kernel's shape) that prune `sparsity` of the weights by magnitude, in `scope`.
 * The caller owns the masks. Example: `const masks = magnitudeMasks(prunableWeights(model), 0.75, 'global')`.
 */
export function magnitudeMasks(weights: readonly PrunableWeight[], sparsity: number, scope: PruneScope): tf.Tensor[] {
  return tf.tidy(() => {
    const abs = weights.map((w) => tf.reshape(tf.abs(w.variable.read()), [-1]) as tf.Tensor1D);
    let thresholds: number[];
    if (scope === 'global') {
      const all = tf.concat(abs) as tf.Tensor1D;
      const t = kthSmallest(all, Math.round(sparsity * all.size));
      thresholds = weights.map(() => t);
    } else {
      thresholds = abs.map((a) => kthSmallest(a, Math.round(sparsity * a.size)));
    }
    return weights.map((w, i) => tf.reshape(tf.greater(abs[i], thresholds[i]), w.variable.shape as number[]));
  });
}

/**
 * Sets the pruned weights of each kernel to 0 in place (on the backend). A select, not a product: w · 0 is -0 for a
 * negative w, and sparse storage keeps every stored bit.
 */
export function applyMasks(weights: readonly PrunableWeight[], masks: readonly tf.Tensor[]): void {
  tf.tidy(() => weights.forEach((w, i) => w.variable.write(tf.where(masks[i], w.variable.read(), tf.zerosLike(w.variable.read())))));
}

/** Masks that keep the weights that are not zero now (a resumed run's masks, read back from its pruned weights). */
export function nonzeroMasks(weights: readonly PrunableWeight[]): tf.Tensor[] {
  return tf.tidy(() => weights.map((w) => tf.notEqual(w.variable.read(), 0)));
}

/**
 * One-shot magnitude pruning: masks `weights` to `sparsity` in `scope` and applies them. Returns the masks (the
 * caller owns them) for fine-tuning with the masks kept.
 */
export function pruneOnce(weights: readonly PrunableWeight[], sparsity: number, scope: PruneScope): tf.Tensor[] {
  const masks = magnitudeMasks(weights, sparsity, scope);
  applyMasks(weights, masks);
  return masks;
}
