// The perturbation adversarial training trains on, in the model's normalized input space (robust/attacks/box.ts maps
// pixel radii to it): a random start δ ~ U(-ε, ε) per pixel and channel, then `steps` signed-gradient steps of size
// α on the cross-entropy, each projected back onto the ε ball around x intersected with the valid image box.
//   fgsm-rs (Wong et al. 2020): one step, α = 1.25 ε.   pgd (Madry et al. 2018): k steps, α = 2.5 ε / k.
// As Wong et al.'s code (delta.uniform_(-ε, ε); clamp(delta, lower - X, upper - X); one step; clamp to ε, then to
// the box), the start is put into the box before the first gradient.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { epsilonPerChannel, projectLinf } from '../attacks/box';
import { inputGradient } from '../attacks/input_gradient';

export interface PerturbOptions {
  /** L∞ radius and step size, pixel units ([0, 1] scale). */
  eps: number;
  alpha: number;
  /** Signed-gradient steps after the random start (≥ 1). */
  steps: number;
  normalization: Normalization;
  /** Seeds the random start (tf.randomUniform: JavaScript random numbers, the same on every backend). */
  seed: number;
  /** Forward passes in training mode (dropout, BatchNorm batch statistics) — the caller keeps moving statistics. */
  training: boolean;
}

/**
 * x: [n, H, W, 3] normalized, y: [n] int32 → x + δ [n, H, W, 3] with |δ_c| ≤ ε / std_c and x + δ in the valid box,
 * δ from a seeded random start and `steps` steps of α · sign(∇_x loss). The caller disposes the result.
 */
export function perturbLinf(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor1D, options: PerturbOptions): tf.Tensor4D {
  const { eps, alpha, steps, normalization } = options;
  const epsC = epsilonPerChannel(normalization, eps);
  // α in normalized units per channel: α / std_c = ε_c · α / ε.
  const alphaC = epsC.map((e) => (e * alpha) / eps);
  let current = tf.tidy(() => {
    const start = tf.mul(tf.randomUniform(x.shape, -1, 1, 'float32', options.seed), tf.tensor1d(epsC));
    return projectLinf(tf.add(x, start) as tf.Tensor4D, x, eps, normalization);
  });
  for (let step = 0; step < steps; step++) {
    const next = tf.tidy(() => {
      const { gradient, losses, logits } = inputGradient(model, current, y, { training: options.training });
      tf.dispose([losses, logits]);
      const moved = tf.add(current, tf.mul(tf.sign(gradient), tf.tensor1d(alphaC))) as tf.Tensor4D;
      return projectLinf(moved, x, eps, normalization);
    });
    current.dispose();
    current = next;
  }
  return current;
}
