// Random starting points of PGD and APGD, seeded: uniform in the L∞ ball, or for L2 a uniform random direction
// (a normalized Gaussian in pixel space) times a radius uniform in [0, eps] (as torchattacks' PGDL2 draws it);
// then clipped into the valid box. TensorFlow.js draws seeded random numbers in JavaScript, so a seed gives the
// same start on every backend.
import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { mixSeeds } from '../../models/seeds';
import { channelAffine, clipToBox, perExampleL2 } from './box';
import type { AttackNorm } from './spec';

/** The seed of one random start: a function of the attack's seed, the batch (`key`) and the restart. */
export function startSeed(seed: number, key: number, restart: number): number {
  return mixSeeds(seed, key, restart);
}

/** x0 [n, H, W, 3] plus a random point of the eps ball (pixel units), clipped into the box. */
export function randomStart(x0: tf.Tensor4D, eps: number, norm: AttackNorm, normalization: Normalization, seed: number): tf.Tensor4D {
  const { std } = channelAffine(normalization);
  return tf.tidy(() => {
    const stdT = tf.tensor1d(std);
    let deltaPixels: tf.Tensor;
    if (norm === 'linf') {
      deltaPixels = tf.randomUniform(x0.shape, -eps, eps, 'float32', seed);
    } else {
      const gaussian = tf.randomNormal(x0.shape, 0, 1, 'float32', seed) as tf.Tensor4D;
      const radius = tf.randomUniform([x0.shape[0], 1, 1, 1], 0, eps, 'float32', mixSeeds(seed, 1));
      deltaPixels = tf.mul(tf.div(gaussian, tf.maximum(tf.reshape(perExampleL2(gaussian), [-1, 1, 1, 1]), 1e-12)), radius);
    }
    return clipToBox(tf.add(x0, tf.div(deltaPixels, stdT)) as tf.Tensor4D, normalization);
  });
}
