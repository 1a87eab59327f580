// Sparse categorical cross-entropy from logits: Keras's
// `SparseCategoricalCrossentropy(from_logits=True)` with Keras's label smoothing. tfjs-layers has no
// from-logits variant, so training, evaluation and the tutorial example all use this one.
import { tf } from '../backend';

/**
 * Mean over the batch of -sum_c target[c] * log_softmax(logits)[c], where target is the one-hot label, smoothed
 * as target * (1 - labelSmoothing) + labelSmoothing / numClasses.
 *
 * labels: [batch] int32 class indices; logits: [batch, numClasses] float32 → scalar float32.
 * Example: `sparseCategoricalCrossentropy(tf.tensor1d([2], 'int32'), tf.zeros([1, 10]))` → log(10).
 */
export function sparseCategoricalCrossentropy(labels: tf.Tensor, logits: tf.Tensor, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, logits.shape[logits.shape.length - 1]);
    return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, labelSmoothing) as tf.Scalar;
  });
}

/**
 * Per-example losses (no reduction), for evaluation over many batches.
 * labels: [batch] int32; logits: [batch, numClasses] → [batch] float32.
 */
export function sparseCategoricalCrossentropyPerExample(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, logits.shape[logits.shape.length - 1]);
    return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0, tf.Reduction.NONE) as tf.Tensor1D;
  });
}
