// Deletion and insertion curves (Petsiuk et al. 2018, "RISE", section 4.1). Pixels are ranked by the heat map,
// most important first. Deletion replaces the top fraction of pixels with black and watches the target class
// probability fall: a faithful map makes it fall fast (low area under the curve). Insertion starts from a blurred
// copy and puts the top fraction of the original pixels back: a faithful map makes the probability rise fast (high
// area). Every step of every image is a row of batched forward passes on the backend.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { withInferenceLayers } from '../../models/inference_layers';

export interface CurveSettings {
  /** Points on each curve: the fractions 0, 1/(steps − 1), ..., 1 of the pixels. */
  steps: number;
  /** [C] what deletion puts in: a black pixel, in the model's normalized space. */
  black: number[];
  /** Most rows per forward pass. */
  batchSize: number;
}

export interface Curves {
  /** [n] per image: area under the deletion curve (trapezoid rule over fractions in [0, 1]). Lower = more faithful. */
  deletion: Float32Array;
  /** [n] per image: area under the insertion curve. Higher = more faithful. */
  insertion: Float32Array;
  /** [steps] mean over the images of the target probability at each fraction, deletion and insertion. */
  deletionCurve: Float32Array;
  insertionCurve: Float32Array;
}

/**
 * x: [n, H, W, C] normalized images, blurred: [n, H, W, C] their blurred copies (baselines.ts), maps: [n, H, W],
 * targets: [n] → both curves per image. Ties in a map are taken in row-major order (top-left first), the same for
 * every method. Nothing of the call stays alive.
 * Example: `const curves = await deletionInsertion(model, x, gaussianBlur(x, blurSigma(32, 32)), attribution.map,
 * targets, { steps: 25, black: [0, 0, 0], batchSize: 64 })`.
 */
export async function deletionInsertion(
  model: tfl.LayersModel, x: tf.Tensor4D, blurred: tf.Tensor4D, maps: tf.Tensor3D, targets: Int32Array, settings: CurveSettings,
): Promise<Curves> {
  const [n, h, w, c] = x.shape;
  const { steps } = settings;
  // Rows are (curve, image, step): sources 0..n-1 are the deletion curves of the images, n..2n-1 the insertion curves.
  // A row is start · (1 − mask) + fill · mask, mask = the pixels ranked below the step's count.
  const [starts, fills, ranks] = tf.tidy(() => {
    const black = tf.broadcastTo(tf.reshape(tf.tensor1d(settings.black), [1, 1, 1, c]), [n, h, w, c]);
    const pixelRank = pixelRanks(maps);
    return [tf.concat([x, blurred]), tf.concat([black, x]), tf.concat([pixelRank, pixelRank])];
  });
  const counts = Int32Array.from({ length: steps }, (_, s) => Math.round((s / (steps - 1)) * h * w));
  const total = 2 * n * steps;
  const probabilities = new Float32Array(total);
  try {
    for (let from = 0; from < total; from += settings.batchSize) {
      const size = Math.min(settings.batchSize, total - from);
      const source = new Int32Array(size);
      const count = new Int32Array(size);
      const target = new Int32Array(size);
      for (let r = 0; r < size; r++) {
        source[r] = Math.floor((from + r) / steps);
        count[r] = counts[(from + r) % steps];
        target[r] = targets[source[r] % n];
      }
      const scores = tf.tidy(() => {
        const index = tf.tensor1d(source, 'int32');
        const mask = tf.reshape(tf.cast(tf.less(tf.gather(ranks, index), tf.tensor2d(count, [size, 1], 'int32')), 'float32'), [size, h, w, 1]);
        const start = tf.gather(starts, index) as tf.Tensor4D;
        const rows = tf.add(start, tf.mul(tf.sub(tf.gather(fills, index), start), mask)) as tf.Tensor4D;
        return targetProbabilities(model, rows, target);
      });
      probabilities.set(await scores.data(), from);
      scores.dispose();
    }
  } finally {
    tf.dispose([starts, fills, ranks]);
  }
  const curve = (image: number) => probabilities.subarray(image * steps, (image + 1) * steps);
  const deletion = Float32Array.from({ length: n }, (_, i) => trapezoid(curve(i)));
  const insertion = Float32Array.from({ length: n }, (_, i) => trapezoid(curve(n + i)));
  const mean = (first: number) => Float32Array.from({ length: steps }, (_, s) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += probabilities[(first + i) * steps + s];
    return sum / n;
  });
  return { deletion, insertion, deletionCurve: mean(0), insertionCurve: mean(n) };
}

/**
 * maps: [n, H, W] → [n, H·W] int32: the rank of each pixel in its map, 0 = largest value (ties: lower index first,
 * as tf.topk orders them). Argsort of the argsort, both as topk on the backend. Call inside a tidy scope.
 */
export function pixelRanks(maps: tf.Tensor3D): tf.Tensor2D {
  const [n, h, w] = maps.shape;
  const order = tf.topk(tf.reshape(maps, [n, h * w]), h * w).indices;
  // order is a permutation: sorting it ascending gives, for pixel p, the position where order holds p.
  return tf.topk(tf.neg(tf.cast(order, 'float32')), h * w).indices as tf.Tensor2D;
}

/**
 * rows: [r, H, W, C], targets: [r] → [r] softmax probability of each row's target; the softmax is skipped when the
 * model's output layer already applies one (Insight's models output logits). Call inside a tidy scope.
 */
function targetProbabilities(model: tfl.LayersModel, rows: tf.Tensor4D, targets: Int32Array): tf.Tensor1D {
  const out = withInferenceLayers(model, () => model.apply(rows, { training: false }) as tf.Tensor2D);
  const last = model.outputLayers[0] ?? model.layers[model.layers.length - 1];
  const probabilities = last?.getConfig().activation === 'softmax' ? out : tf.softmax(out);
  return tf.sum(tf.mul(probabilities, tf.oneHot(tf.tensor1d(targets, 'int32'), out.shape[1])), 1);
}

/** Area under a curve sampled at evenly spaced points 0, 1/(k − 1), ..., 1 (trapezoid rule). */
export function trapezoid(values: ArrayLike<number>): number {
  const k = values.length;
  let sum = 0;
  for (let i = 0; i + 1 < k; i++) sum += (values[i] + values[i + 1]) / 2;
  return sum / (k - 1);
}
