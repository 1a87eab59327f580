// The loss of a mixed batch: λ·CE(y) + (1-λ)·CE(y[perm]), each target smoothed with the run's label smoothing — the
// cross-entropy is linear in its target, so this is one cross-entropy with the mixed soft target
// t = λ·smooth(onehot(y)) + (1-λ)·smooth(onehot(y[perm])), computed as such.
import { tf } from '../../backend';

/**
 * labels, partnerLabels: [n] int32; logits: [n, classes] → the batch mean of -Σ_c t[c]·log_softmax(logits)[c]
 * (smoothing s: onehot·(1-s) + s/classes, as models/loss.ts). Called inside the gradient tape.
 */
export function mixedCrossEntropy(labels: tf.Tensor1D, partnerLabels: tf.Tensor1D, lambda: number, labelSmoothing: number, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const target = tf.add(tf.mul(tf.oneHot(labels, classes), lambda), tf.mul(tf.oneHot(partnerLabels, classes), 1 - lambda));
    return tf.losses.softmaxCrossEntropy(target, logits, undefined, labelSmoothing) as tf.Scalar;
  });
}
