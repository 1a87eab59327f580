// One micro-batch of training: the batch's tensors, dropout seeded for (run seed, update, micro-batch), BatchNorm and
// convolutions on the backend's fused kernels, the forward and backward pass, and the batch's loss and correct count read back as
// numbers.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { Batch } from '../data';
import { seedDropout } from './dropout_seeds';
import { capturedGradientStep, gradientStep, type LogitsLoss } from './gradient_step';
import { useNativeBatchNorm } from './native_batch_norm';
import { useNativeConv } from './native_conv';

/**
 * A training loss in place of the cross-entropy with the labels, per micro-batch: called before the gradient tape
 * with the batch's input x [size, H, W, 3] and labels y [size] (e.g. to run a teacher on x, outside the tape), it
 * returns the loss of the model's logits (called inside the tape) and what to free after the step.
 */
export type BatchLoss = (x: tf.Tensor4D, y: tf.Tensor1D) => { loss: LogitsLoss; dispose(): void };

/** Where a micro-batch sits in training: what a BatchTransform seeds its random draws with. */
export interface BatchPosition {
  seed: number;
  step: number;
  microBatch: number;
  /** Data parallel: this process's rank (0 in one process). */
  rank: number;
}

/**
 * Rewrites a micro-batch before the gradient tape (outside it), e.g. into adversarial examples (robust/) or a
 * Mixup/CutMix blend (data/mixing/). Called with the batch's normalized input x [size, H, W, 3] and labels y [size];
 * returns the input to train on (same shape; x itself when unchanged) and, optionally, the loss of the model's logits
 * to use in place of the cross-entropy with y (e.g. soft labels). dispose() frees what it made (never x or y).
 * `model` is the model being trained (an attack differentiates it); the step's own forward pass runs after.
 */
export type BatchTransform = (x: tf.Tensor4D, y: tf.Tensor1D, model: tfl.LayersModel, at: BatchPosition)
  => { x: tf.Tensor4D; loss?: LogitsLoss; dispose(): void };

export interface TrainStepOptions {
  /** Input size of the model: x is [batch.size, height, width, 3]. */
  height: number;
  width: number;
  labelSmoothing: number;
  /** Dropout masks are a function of these: the run's seed, the update and the micro-batch within it. */
  seed: number;
  step: number;
  microBatch: number;
  /** Data parallel: this process's rank (its dropout masks are its own); 0 or absent in one process. */
  rank?: number;
  /** A scalar added to the loss inside the gradient tape (a regularizer such as L2-SP). */
  penalty?: () => tf.Scalar;
  /** Replaces the cross-entropy with the labels (labelSmoothing is then the loss's own business). */
  loss?: BatchLoss;
  /** Rewrites the batch before the forward pass (runs before `loss`, which then sees the rewritten input). */
  transform?: BatchTransform;
}

export interface TrainStepResult {
  /** grads[i] is d loss / d variables[i], the batch mean; the caller owns them. */
  grads: tf.Tensor[];
  /** Mean loss over the batch. */
  loss: number;
  /** Examples whose argmax logit is the label. */
  correct: number;
}

/** batch.x: [size, H, W, 3] float32 (normalized), batch.y: [size] int32 → gradients, loss and correct count. */
export async function trainStep(model: tfl.LayersModel, variables: tf.Variable[], batch: Batch, options: TrainStepOptions): Promise<TrainStepResult> {
  const x = tf.tensor4d(batch.x, [batch.size, options.height, options.width, 3]);
  const y = tf.tensor1d(batch.y, 'int32');
  const restoreSeeds = seedDropout(model, options.seed, options.step, options.microBatch, options.rank);
  const restoreBatchNorm = useNativeBatchNorm(model);
  let step;
  let rewritten: ReturnType<BatchTransform> | undefined;
  let batchLoss: ReturnType<BatchLoss> | undefined;
  try {
    rewritten = options.transform?.(x, y, model, { seed: options.seed, step: options.step, microBatch: options.microBatch, rank: options.rank ?? 0 });
    const input = rewritten?.x ?? x;
    batchLoss = options.loss?.(input, y);
    const lossOf = batchLoss?.loss ?? rewritten?.loss;
    // Convolutions fused for the gradient pass only (they take the batch as data, which an attack may not).
    const restoreConv = useNativeConv(model);
    try {
      // The cross-entropy step replays natively after two recorded steps; a loss made per batch is a new function each time.
      step = lossOf === undefined
        ? capturedGradientStep(model, variables, input, y, options.labelSmoothing, options.penalty)
        : gradientStep(model, variables, input, y, options.labelSmoothing, options.penalty, lossOf);
    } finally {
      restoreConv();
    }
  } finally {
    batchLoss?.dispose();
    rewritten?.dispose();
    restoreBatchNorm();
    restoreSeeds();
    tf.dispose([x, y]);
  }
  try {
    const [loss, correct] = await Promise.all([step.loss.data(), step.correct.data()]);
    return { grads: step.grads, loss: loss[0], correct: correct[0] };
  } catch (error) {
    tf.dispose(step.grads);
    throw error;
  } finally {
    tf.dispose([step.loss, step.correct]);
  }
}
