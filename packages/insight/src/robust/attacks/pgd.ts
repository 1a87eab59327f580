// PGD (Madry et al. 2018): from a start in the threat model, `steps` ascent steps of size alpha on the
// cross-entropy, each projected back onto the eps ball ∩ the valid box. The result is the last iterate, as in
// Madry et al.'s evaluation, torchattacks and RobustBench.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { inputGradient } from './input_gradient';
import type { ResolvedAttackSpec } from './spec';
import { ascend, project } from './step';

/**
 * x0: [n, H, W, 3] normalized clean input, y: [n] int32, start: the first iterate (x0 itself, or a random start;
 * not disposed) → the adversarial examples after spec.steps steps (the caller disposes them).
 */
export function pgd(model: tfl.LayersModel, x0: tf.Tensor4D, y: tf.Tensor1D, spec: ResolvedAttackSpec, normalization: Normalization, start: tf.Tensor4D): tf.Tensor4D {
  let current = tf.clone(start);
  for (let step = 0; step < spec.steps; step++) {
    const next = tf.tidy(() => {
      const { gradient } = inputGradient(model, current, y, { training: spec.training, output: spec.output });
      return project(ascend(current, gradient, spec.alpha, spec.norm, normalization), x0, spec.eps, spec.norm, normalization);
    });
    current.dispose();
    current = next;
  }
  return current;
}
