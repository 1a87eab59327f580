// Reference inputs, in the model's normalized input space: the value range of pixels (black and white per channel),
// constant black images, a Gaussian blur and seeded uniform noise. Integrated Gradients and occlusion use them.
import { tf } from '../backend';
import { normalizationTable, type Normalization } from '../data';
import { streamRng } from '../data/random';
import type { MethodOptions } from './attribution';

/** The normalized values of a black (byte 0) and a white (byte 255) pixel, per channel, under `normalization`. */
export function pixelRange(normalization: Normalization): { blackValue: number[]; whiteValue: number[] } {
  const lut = normalizationTable(normalization); // lut[c * 256 + byte]
  return { blackValue: [0, 1, 2].map((c) => lut[c * 256]), whiteValue: [0, 1, 2].map((c) => lut[c * 256 + 255]) };
}

/** [C] per-channel values as a tensor broadcasting over [n, H, W, C]. */
function perChannel(values: number[]): tf.Tensor1D {
  return tf.tensor1d(values, 'float32');
}

/** An all-black batch of `shape` [n, H, W, C] (blackValue in every channel). */
export function blackImages(shape: [number, number, number, number], blackValue: number[]): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.ones(shape), perChannel(blackValue)) as tf.Tensor4D);
}

/** The blurred baseline's sigma, in pixels, for an H x W image: a tenth of the shorter side. */
export function blurSigma(height: number, width: number): number {
  return Math.min(height, width) / 10;
}

/**
 * Gaussian blur of x [n, H, W, C], channel by channel (separable: along H, then along W, each a depthwise conv).
 * Kernel: exp(-d² / (2 sigma²)) for d = -r..r, r = min(ceil(3 sigma), min(H, W) - 1), normalized to sum 1; borders
 * are reflected (PyTorch's F.pad mode 'reflect': the edge pixel is not repeated). The weights sum to 1, so blurring
 * commutes with the per-channel affine normalization: blurring normalized inputs = normalizing blurred pixels.
 */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const [, height, width, channels] = x.shape;
  const radius = Math.min(Math.ceil(3 * sigma), Math.min(height, width) - 1);
  if (radius <= 0 || sigma <= 0) return tf.clone(x);
  const weights = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = weights.reduce((a, b) => a + b, 0);
  // Depthwise filter [kh, kw, C, 1]: the same 1-D kernel for every channel.
  const kernel = (kh: number, kw: number) => tf.tile(tf.tensor4d(weights.map((w) => w / total), [kh, kw, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  return tf.tidy(() => {
    const alongH = tf.depthwiseConv2d(tf.mirrorPad(x, [[0, 0], [radius, radius], [0, 0], [0, 0]], 'reflect'), kernel(2 * radius + 1, 1), 1, 'valid');
    return tf.depthwiseConv2d(tf.mirrorPad(alongH, [[0, 0], [0, 0], [radius, radius], [0, 0]], 'reflect'), kernel(1, 2 * radius + 1), 1, 'valid');
  });
}

/** An integer seed for tf's seeded random ops, drawn from the named stream (seed, ...keys). */
export function opSeed(seed: number, ...keys: (string | number)[]): number {
  return Math.floor(streamRng(seed, ...keys)() * 2 ** 31);
}

/**
 * Uniform noise images [n, H, W, C] in the normalized space of [0, 255] pixels: blackValue + u (whiteValue - blackValue),
 * u ~ U[0, 1) per value from tf.randomUniform seeded by (seed, 'ig-noise'). All n images get the same noise field, so
 * an image's baseline does not depend on which images share its batch.
 */
export function uniformNoiseImages(shape: [number, number, number, number], options: Pick<MethodOptions, 'seed' | 'blackValue' | 'whiteValue'>): tf.Tensor4D {
  const [n, height, width, channels] = shape;
  return tf.tidy(() => {
    const u = tf.randomUniform([1, height, width, channels], 0, 1, 'float32', opSeed(options.seed, 'ig-noise'));
    const span = tf.sub(perChannel(options.whiteValue), perChannel(options.blackValue));
    return tf.tile(tf.add(perChannel(options.blackValue), tf.mul(u, span)), [n, 1, 1, 1]) as tf.Tensor4D;
  });
}

/** Integrated Gradients' baseline for x [n, H, W, C] (options.baseline): black, blurred x, or uniform noise. */
export function igBaseline(x: tf.Tensor4D, options: MethodOptions): tf.Tensor4D {
  const [n, height, width, channels] = x.shape;
  switch (options.baseline) {
    case 'black':
      return blackImages([n, height, width, channels], options.blackValue);
    case 'blurred':
      return gaussianBlur(x, blurSigma(height, width));
    case 'noise':
      return uniformNoiseImages([n, height, width, channels], options);
  }
}
