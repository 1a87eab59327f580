// Knowledge distillation's loss (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"):
//   loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(y, s)
// t the teacher's logits, s the student's, y the labels; KL summed over classes, both terms averaged over the batch
// (Keras's KLDivergence and SparseCategoricalCrossentropy reductions). The T^2 keeps the soft term's gradient
// the size of the hard term's whatever T (its gradient scales as 1/T^2 otherwise, section 2 of the paper):
//   d loss / d s = alpha * T * (softmax(s / T) - softmax(t / T)) / batch + (1 - alpha) * (softmax(s) - onehot(y)) / batch.
// All on the backend, in log space: KL = sum p_t * (log p_t - log p_s) with both logs from logSoftmax, exact where
// p_t underflows (0 * finite) — Keras clips both probabilities to [1e-7, 1] instead.
import { tf } from '../../backend';
import { sparseCategoricalCrossentropy } from '../../models/loss';

export interface DistillationLossOptions {
  /** T > 0: both softmaxes are taken of logits / T. */
  temperature: number;
  /** Weight of the distillation term in [0, 1]; the cross-entropy with the labels gets 1 - alpha. */
  alpha: number;
  /** Label smoothing of the cross-entropy term (as train's --label-smoothing). Default 0. */
  labelSmoothing?: number;
}

/**
 * KL(softmax(teacher / T) || softmax(student / T)), summed over classes, mean over the batch.
 * student, teacher: [batch, classes] logits → scalar float32.
 * Example: `softKl(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 2]]), 4)` → 0.
 */
export function softKl(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const logTeacher = tf.logSoftmax(tf.div(teacher, temperature));
    const logStudent = tf.logSoftmax(tf.div(student, temperature));
    return tf.mean(tf.sum(tf.mul(tf.exp(logTeacher), tf.sub(logTeacher, logStudent)), -1)) as tf.Scalar;
  });
}

/**
 * The distillation loss of a batch. student, teacher: [batch, classes] logits; labels: [batch] int32 → scalar.
 * The teacher's logits get no gradient (compute them outside the tape). alpha = 1 is the soft term alone, alpha = 0
 * the cross-entropy alone (the teacher is then not read).
 * Example: `distillationLoss(s, t, y, { temperature: 4, alpha: 0.9 })`.
 */
export function distillationLoss(student: tf.Tensor2D, teacher: tf.Tensor2D | null, labels: tf.Tensor1D, options: DistillationLossOptions): tf.Scalar {
  const { temperature: T, alpha } = options;
  return tf.tidy(() => {
    const hard = alpha < 1 ? sparseCategoricalCrossentropy(labels, student, options.labelSmoothing ?? 0) : null;
    if (alpha === 0) return hard!;
    const soft = tf.mul(softKl(student, teacher!, T), alpha * T * T);
    return (hard === null ? soft : tf.add(soft, tf.mul(hard, 1 - alpha))) as tf.Scalar;
  });
}
