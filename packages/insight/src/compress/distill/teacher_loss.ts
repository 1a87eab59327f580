// The distillation loss as fit()'s per-batch loss (train/train_step.ts BatchLoss): the teacher runs on the very batch
// the student trains on (same images, same augmentation), converted to the teacher's own normalization, in inference
// mode (BatchNorm's moving statistics, no dropout) and outside the gradient tape, so no gradient reaches it and its
// activations are freed at once; its logits live until the step's gradients are computed.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data';
import { clampedLog } from '../../models/inference_output';
import type { BatchLoss } from '../../train/train_step';
import { distillationLoss, type DistillationLossOptions } from './loss';
import { renormalizer } from './renormalize';

export interface TeacherLossOptions extends DistillationLossOptions {
  /** The normalization of the batches fit() gives (the student's). */
  studentNormalization: Normalization;
  /** The teacher's own (its metadata's). */
  teacherNormalization: Normalization;
  /**
   * What the teacher outputs (its metadata's inference.output): 'logits' (default), or 'probabilities' (an ensemble),
   * whose log stands in for the logits (softmax(log p / T) is p sharpened or softened as softmax(z / T) would be).
   */
  teacherOutput?: 'logits' | 'probabilities';
}

/** The teacher's logits [batch, classes] for x [batch, H, W, 3] normalized as the student's input (a new tensor). */
export function teacherLogits(teacher: tfl.LayersModel, x: tf.Tensor4D, convert: ((x: tf.Tensor4D) => tf.Tensor4D) | null,
  output: 'logits' | 'probabilities' = 'logits'): tf.Tensor2D {
  return tf.tidy(() => {
    const out = teacher.apply(convert ? convert(x) : x, { training: false }) as tf.Tensor2D;
    return output === 'probabilities' ? clampedLog(out) : out;
  });
}

/**
 * fit({ loss }) for distilling `teacher` into the model being trained.
 * Example: `fit(student, loader, { ..., loss: teacherLoss(teacher, { temperature: 4, alpha: 0.9, studentNormalization, teacherNormalization }) })`.
 */
export function teacherLoss(teacher: tfl.LayersModel, options: TeacherLossOptions): BatchLoss {
  const convert = renormalizer(options.studentNormalization, options.teacherNormalization);
  return (x, y) => {
    const logits = options.alpha > 0 ? teacherLogits(teacher, x, convert, options.teacherOutput) : null;
    return {
      loss: (student) => distillationLoss(student, logits, y, options),
      dispose: () => logits?.dispose(),
    };
  };
}
