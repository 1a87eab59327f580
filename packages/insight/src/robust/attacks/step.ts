// The moves every attack is made of, in normalized input space [n, H, W, 3]: an ascent step along the gradient
// (L∞: α · sign(g); L2: α times the unit pixel-space direction), the projection back onto the threat model,
// and a per-example choice between two candidates.
import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { channelAffine, l2Direction, projectL2, projectLinf } from './box';
import type { AttackNorm } from './spec';

/**
 * x + step · direction(gradient), step in pixel units: a number, or per example a [n] tensor (APGD's step sizes).
 * L∞: step_c = step / std_c times sign(g); L2: step times the direction of steepest ascent of pixel length 1.
 */
export function ascend(x: tf.Tensor4D, gradient: tf.Tensor4D, step: number | tf.Tensor1D, norm: AttackNorm, normalization: Normalization): tf.Tensor4D {
  return tf.tidy(() => {
    const size = typeof step === 'number' ? tf.scalar(step) : tf.reshape(step, [-1, 1, 1, 1]);
    if (norm === 'l2') return tf.add(x, tf.mul(l2Direction(gradient, normalization), size)) as tf.Tensor4D;
    const { std } = channelAffine(normalization);
    return tf.add(x, tf.mul(tf.div(tf.sign(gradient), tf.tensor1d(std)), size)) as tf.Tensor4D;
  });
}

/** xAdv projected onto the eps ball (pixel units) of `norm` around x0, intersected with the valid box. */
export function project(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number, norm: AttackNorm, normalization: Normalization): tf.Tensor4D {
  return norm === 'l2' ? projectL2(xAdv, x0, eps, normalization) : projectLinf(xAdv, x0, eps, normalization);
}

/** Per example: row i of `a` where mask[i], else of `b`. mask [n] bool; a, b of one shape [n, ...]. */
export function selectRows<T extends tf.Tensor>(mask: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => {
    const shape = [mask.shape[0], ...new Array<number>(a.rank - 1).fill(1)];
    return tf.where(tf.broadcastTo(tf.reshape(mask, shape), a.shape), a, b) as T;
  });
}

/** [n] bool: the examples whose argmax logit is not their label. */
export function misclassified(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.notEqual(tf.argMax(logits, -1), tf.cast(y, 'int32')) as tf.Tensor1D);
}
