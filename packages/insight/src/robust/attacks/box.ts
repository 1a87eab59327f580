// The geometry of an attack in the model's input space. Attack radii are in pixel units (pixels on the [0, 1]
// scale, as papers state ε = 8/255), while the model sees normalized input x = (pixel - mean_c) / std_c (data/
// normalize.ts; 'scale' is mean 0, std 1). Normalization is affine per channel, so in normalized units the L∞ radius
// of channel c is ε / std_c, the valid image box is [(0 - mean_c) / std_c, (1 - mean_c) / std_c], and a pixel-space
// perturbation is the normalized one times std_c. Everything here works on normalized NHWC tensors [n, H, W, 3].
import { tf } from '../../backend';
import { type Normalization, checkNormalization } from '../../data/normalize';
import { checkRadius } from './spec';

type Rgb = [number, number, number];

/** Per-channel mean and std of the affine map pixel → normalized input ('scale': 0 and 1). */
export function channelAffine(normalization: Normalization): { mean: Rgb; std: Rgb } {
  checkNormalization(normalization);
  return normalization.kind === 'scale' ? { mean: [0, 0, 0], std: [1, 1, 1] } : { mean: [...normalization.mean], std: [...normalization.std] };
}

/** ε (pixel units, [0, 1] scale) per channel in normalized units: ε / std_c. */
export function epsilonPerChannel(normalization: Normalization, eps: number): Rgb {
  checkRadius(eps, 'eps');
  const { std } = channelAffine(normalization);
  return std.map((s) => eps / s) as Rgb;
}

/** The valid image box in normalized units: low_c = (0 - mean_c) / std_c, high_c = (1 - mean_c) / std_c. */
export function validBox(normalization: Normalization): { low: Rgb; high: Rgb } {
  const { mean, std } = channelAffine(normalization);
  return { low: mean.map((m, c) => -m / std[c]) as Rgb, high: mean.map((m, c) => (1 - m) / std[c]) as Rgb };
}

/** x [n, H, W, 3] clipped per channel into the valid box. */
export function clipToBox(x: tf.Tensor4D, normalization: Normalization): tf.Tensor4D {
  const { low, high } = validBox(normalization);
  return tf.tidy(() => tf.minimum(tf.maximum(x, tf.tensor1d(low)), tf.tensor1d(high)) as tf.Tensor4D);
}

/**
 * The projection onto the L∞ ball of radius eps (pixel units) around x0, intersected with the valid box:
 * clip(xAdv, x0 - ε_c, x0 + ε_c) then clip to the box (the box clip moves a coordinate towards x0's side of the
 * box, so the result stays in the ball: it is the exact projection onto the intersection). Shapes [n, H, W, 3].
 */
export function projectLinf(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number, normalization: Normalization): tf.Tensor4D {
  const epsC = epsilonPerChannel(normalization, eps);
  return tf.tidy(() => {
    const radius = tf.tensor1d(epsC);
    const inBall = tf.minimum(tf.maximum(xAdv, tf.sub(x0, radius)), tf.add(x0, radius)) as tf.Tensor4D;
    return clipToBox(inBall, normalization);
  });
}

/**
 * The L2 ball of radius eps around x0, the norm measured per example in pixel units (||(xAdv - x0) · std||_2),
 * intersected with the valid box: the perturbation is scaled down to the sphere when outside, then clipped to the
 * box (clipping only shrinks coordinates towards x0, so the result stays in the ball; as torchattacks and
 * AutoAttack do it, a feasible point rather than the exact Euclidean projection onto the intersection).
 */
export function projectL2(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number, normalization: Normalization): tf.Tensor4D {
  checkRadius(eps, 'eps');
  const { std } = channelAffine(normalization);
  return tf.tidy(() => {
    const stdT = tf.tensor1d(std);
    const deltaPixels = tf.mul(tf.sub(xAdv, x0), stdT);
    const norms = tf.reshape(perExampleL2(deltaPixels as tf.Tensor4D), [-1, 1, 1, 1]);
    const scale = tf.minimum(1, tf.div(eps, tf.maximum(norms, 1e-12)));
    return clipToBox(tf.add(x0, tf.div(tf.mul(deltaPixels, scale), stdT)) as tf.Tensor4D, normalization);
  });
}

/** Per-example L2 norm of a pixel-unit tensor [n, H, W, 3] → [n]. */
export function perExampleL2(t: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(t), [1, 2, 3])) as tf.Tensor1D);
}

/** The perturbation xAdv - x0 in pixel units ((xAdv - x0) · std_c), [n, H, W, 3]. */
export function pixelPerturbation(xAdv: tf.Tensor4D, x0: tf.Tensor4D, normalization: Normalization): tf.Tensor4D {
  const { std } = channelAffine(normalization);
  return tf.tidy(() => tf.mul(tf.sub(xAdv, x0), tf.tensor1d(std)) as tf.Tensor4D);
}

/**
 * The L2 steepest-ascent direction in normalized units for a gradient g = dLoss/dx (normalized input): in pixel
 * space the gradient is g / std_c and the unit step is its per-example normalization; mapped back (÷ std_c) it is
 * (g / std²) / ||g / std||_2. A step of pixel length α is α times the result. [n, H, W, 3] → [n, H, W, 3].
 */
export function l2Direction(gradient: tf.Tensor4D, normalization: Normalization): tf.Tensor4D {
  const { std } = channelAffine(normalization);
  return tf.tidy(() => {
    const stdT = tf.tensor1d(std);
    const pixelGradient = tf.div(gradient, stdT) as tf.Tensor4D;
    const norms = tf.reshape(perExampleL2(pixelGradient), [-1, 1, 1, 1]);
    return tf.div(tf.div(pixelGradient, tf.maximum(norms, 1e-12)), stdT) as tf.Tensor4D;
  });
}
