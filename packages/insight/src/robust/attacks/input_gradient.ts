// The gradient every attack follows: d(cross-entropy) / d(input), per example, through the model.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { withInferenceLayers } from '../../models/inference_layers';
import { clampedLog } from '../../models/inference_output';
import { sparseCategoricalCrossentropyPerExample } from '../../models/loss';

export interface InputGradientOptions {
  /**
   * Run the model in training mode: dropout active, BatchNorm normalizing with the batch's statistics (and, as in
   * any training-mode call, updating its moving averages). Attacks for evaluation pass false.
   */
  training: boolean;
  /**
   * What the model outputs: 'logits' (default) or 'probabilities' (an ensemble, metadata inference.output): then
   * the loss is -log p_y, with log p (floored at 1e-30) standing in for the logits (softmax(log p) = p).
   */
  output?: 'logits' | 'probabilities';
}

export interface InputGradient {
  /** [n, H, W, 3]: d(sum of the per-example losses) / dx, so row i is the gradient of example i's own loss. */
  gradient: tf.Tensor4D;
  /** [n]: each example's cross-entropy at x (no label smoothing). */
  losses: tf.Tensor1D;
  /** [n, classes]: the logits at x (log-probabilities for a probability output). */
  logits: tf.Tensor2D;
}

/**
 * x: [n, H, W, 3] normalized input, y: [n] int32 labels → the input gradient, the losses and the logits, from one
 * forward and one backward pass. The caller disposes the three tensors (they behave as ordinary tensors inside an
 * enclosing tf.tidy). Example: `const { gradient } = inputGradient(model, x, y, { training: false })`.
 */
export function inputGradient(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor1D, options: InputGradientOptions): InputGradient {
  let keptLosses: tf.Tensor1D | undefined;
  let keptLogits: tf.Tensor2D | undefined;
  const lossOf = (input: tf.Tensor4D): tf.Scalar => {
    const logits = modelLogits(model, input, options);
    const losses = sparseCategoricalCrossentropyPerExample(y, logits);
    // Kept past the gradient's own scope; cloned below into the caller's scope and released.
    keptLosses = tf.keep(losses);
    keptLogits = tf.keep(logits);
    return tf.sum(losses);
  };
  // Convolutions differentiable for their input only (no kernel gradients), BatchNorm folded in evaluation.
  const { value, grad } = withInferenceLayers(model, () => tf.valueAndGrad(lossOf)(x), { batchStatistics: options.training });
  try {
    return { gradient: grad as tf.Tensor4D, losses: tf.clone(keptLosses!), logits: tf.clone(keptLogits!) };
  } finally {
    tf.dispose([value, keptLosses!, keptLogits!]);
  }
}

/** The model's logits at x [n, H, W, 3] → [n, classes] (log-probabilities for a probability output). */
export function logitsOf(model: tfl.LayersModel, x: tf.Tensor4D, options: InputGradientOptions): tf.Tensor2D {
  return withInferenceLayers(model, () => modelLogits(model, x, options), { batchStatistics: options.training });
}

/** logitsOf's forward pass through the layers as they are (inputGradient has swapped them already). */
function modelLogits(model: tfl.LayersModel, x: tf.Tensor4D, options: InputGradientOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const out = model.apply(x, { training: options.training }) as tf.Tensor2D;
    return options.output === 'probabilities' ? clampedLog(out) : out;
  });
}
