// FGSM (Goodfellow et al. 2015): one step of size eps along the gradient's sign (L∞), or along the unit gradient
// in pixel space (L2, the "fast gradient method"), from the clean image, clipped into the valid box.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { inputGradient } from './input_gradient';
import type { ResolvedAttackSpec } from './spec';
import { ascend, project } from './step';

/** x0: [n, H, W, 3] normalized, y: [n] int32 → the adversarial examples (the caller disposes them). */
export function fgsm(model: tfl.LayersModel, x0: tf.Tensor4D, y: tf.Tensor1D, spec: ResolvedAttackSpec, normalization: Normalization): tf.Tensor4D {
  return tf.tidy(() => {
    const { gradient } = inputGradient(model, x0, y, { training: spec.training, output: spec.output });
    return project(ascend(x0, gradient, spec.eps, spec.norm, normalization), x0, spec.eps, spec.norm, normalization);
  });
}
