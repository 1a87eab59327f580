// Occlusion (Zeiler & Fergus 2014, section 4.2), as Captum's Occlusion computes it: a window × window patch (all
// channels) is set to black (blackValue), at top-left corners 0, stride, 2·stride ... while the patch fits
// (floor((H − window) / stride) + 1 positions per axis, likewise along W). Each occluded copy's drop of the target
// logit, logit(x) − logit(occluded), is credited to every pixel of its patch; a pixel's map value is the mean drop
// over the patches covering it (signed: negative where hiding it raises the logit). Pixels no patch covers (right or
// bottom edge, when stride does not divide H − window) get 0, where Captum divides by zero.
// Rows r = i·P + p (image i, patch p) run in passes of at most internalBatchSize rows; the drops [n, P] are spread
// over the pixels by products with the patches' row and column bands (memory: the bands, not P masks).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { capturedPass } from '../captured_passes';
import { forEachChunk, targetScores, targetScoresInChunks } from './target_score';

/** Top-left corners along one axis of `size` pixels: 0, stride, ... while corner + window ≤ size. */
export function patchCorners(size: number, window: number, stride: number): number[] {
  return Array.from({ length: Math.floor((size - window) / stride) + 1 }, (_, k) => k * stride);
}

/** How many patches cover each position along one axis: [size]. */
function coverage(size: number, corners: number[], window: number): number[] {
  return Array.from({ length: size }, (_, h) => corners.filter((c) => h >= c && h < c + window).length);
}

/** Indicator matrix [corners, size]: row k is 1 on [corners[k], corners[k] + window). Call inside tidy. */
function bands(corners: number[], size: number, window: number): tf.Tensor2D {
  const position = tf.expandDims(tf.range(0, size, 1, 'int32'), 0); // [1, size]
  const start = tf.tensor2d(corners, [corners.length, 1], 'int32');
  return tf.cast(tf.logicalAnd(tf.greaterEqual(position, start), tf.less(position, tf.add(start, window))), 'float32') as tf.Tensor2D;
}

/**
 * The target scores of occluded copies: row j is image imageIndex[j] with the patch of row band rowIndex[j] and
 * column band columnIndex[j] set to black. x [n, H, W, C], rowBands [T, H], columnBands [L, W], black [C], the
 * indices and targets [rows] → scores [rows]; a chunk's masking and its forward pass are one captured pass.
 */
function occludedScores(model: tfl.LayersModel, x: tf.Tensor, rowBands: tf.Tensor, columnBands: tf.Tensor, black: tf.Tensor,
  rowIndex: tf.Tensor, columnIndex: tf.Tensor, imageIndex: tf.Tensor, targets: tf.Tensor): tf.Tensor1D {
  return capturedPass(model, 'occluded scores', (images, rows, columns, b, ri, ci, ii, t) => {
    const [size, height, width] = [ri.shape[0], images.shape[1]!, images.shape[2]!];
    const mask = tf.mul(tf.reshape(tf.gather(rows, ri), [size, height, 1, 1]), tf.reshape(tf.gather(columns, ci), [size, 1, width, 1])); // [rows, H, W, 1]
    const picked = tf.gather(images, ii);
    const occluded = tf.add(picked, tf.mul(mask, tf.sub(b, picked))) as tf.Tensor4D;
    return targetScores(model, occluded, t as tf.Tensor1D); // eager inside this recording
  })(x, rowBands, columnBands, black, rowIndex, columnIndex, imageIndex, targets);
}

/**
 * Occlusion: x [n, H, W, C] normalized images, targets [n] → map [n, H, W], the mean drop of the target logit when a
 * patch covering the pixel is blacked out. Throws INSIGHT_E_CONFIG when the window is larger than the image.
 */
export const occlusion: AttributionMethod = async (model, x, targets, options: MethodOptions): Promise<Attribution> => {
  const [n, height, width] = x.shape;
  const { window, stride } = options;
  if (window > Math.min(height, width)) {
    throw ruleError('INSIGHT_E_CONFIG', 'occlusion\'s window must fit in the image (window <= height and width).',
      { window, height, width }, `Pass a window of at most ${Math.min(height, width)} pixels, e.g. --window ${Math.max(1, Math.floor(Math.min(height, width) / 4))}.`);
  }
  const tops = patchCorners(height, window, stride);
  const lefts = patchCorners(width, window, stride);
  const patches = tops.length * lefts.length;
  const unoccluded = await targetScoresInChunks(model, x, targets, options.internalBatchSize);
  // A patch's mask is the outer product of a row band and a column band: the bands, once, as indicator matrices
  // rowBands [T, H] and columnBands [L, W] (T, L: corners along each axis; P = T·L patches, p = t·L + l).
  const [rowBands, columnBands, black] = tf.tidy(() => [bands(tops, height, window), bands(lefts, width, window), tf.tensor1d(options.blackValue, 'float32')]);
  const drops = new Float32Array(n * patches); // [n, T, L]: logit(x) − logit(occluded)
  try {
    await forEachChunk(n * patches, options.internalBatchSize, async (start, end) => {
      const rows = Array.from({ length: end - start }, (_, j) => start + j);
      const imageOf = rows.map((r) => Math.floor(r / patches));
      const scores = tf.tidy(() => occludedScores(model, x, rowBands, columnBands, black,
        tf.tensor1d(rows.map((r) => Math.floor((r % patches) / lefts.length)), 'int32'), tf.tensor1d(rows.map((r) => r % lefts.length), 'int32'),
        tf.tensor1d(imageOf, 'int32'), tf.tensor1d(imageOf.map((i) => targets[i]), 'int32')));
      let values: Float32Array;
      try {
        values = await scores.data() as Float32Array;
      } finally {
        scores.dispose();
      }
      rows.forEach((r, j) => { drops[r] = unoccluded[imageOf[j]] - values[j]; });
    });
    // Σ drops over the patches covering each pixel: rowBandsᵀ · drops_i · columnBands per image [n, H, W], divided by
    // how many patches cover the pixel (the product of the row's and the column's counts, the same for every image).
    const map = tf.tidy(() => {
      const grid = tf.tensor3d(drops, [n, tops.length, lefts.length]);
      const total = tf.matMul(tf.matMul(tf.broadcastTo(tf.expandDims(tf.transpose(rowBands), 0), [n, height, tops.length]), grid),
        tf.broadcastTo(tf.expandDims(columnBands, 0), [n, lefts.length, width]));
      const count = tf.outerProduct(tf.tensor1d(coverage(height, tops, window)), tf.tensor1d(coverage(width, lefts, window)));
      return tf.div(total, tf.maximum(count, 1)) as tf.Tensor3D; // uncovered pixels: total 0 → 0
    });
    return { method: 'occlusion', map };
  } finally {
    tf.dispose([rowBands, columnBands, black]);
  }
};
