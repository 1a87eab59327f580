// Occlusion (Zeiler & Fergus 2014, section 4.2), as Captum's Occlusion computes it: a window × window patch (all
// channels) is set to black (blackValue), at top-left corners 0, stride, 2·stride ... while the patch fits
// (floor((H − window) / stride) + 1 positions per axis, likewise along W). Each occluded copy's drop of the target
// logit, logit(x) − logit(occluded), is credited to every pixel of its patch; a pixel's map value is the mean drop
// over the patches covering it (signed: negative where hiding it raises the logit). Pixels no patch covers (right or
// bottom edge, when stride does not divide H − window) get 0, where Captum divides by zero.
// Rows r = i·P + p (image i, patch p) run in passes of at most internalBatchSize rows, summed per image.
import { tf } from '../../backend';
import { ruleError } from '../../errors';
import type { Attribution, AttributionMethod, MethodOptions } from '../attribution';
import { forEachChunk, sumByImage, targetScores, targetScoresInChunks } from './target_score';

/** Top-left corners along one axis of `size` pixels: 0, stride, ... while corner + window ≤ size. */
export function patchCorners(size: number, window: number, stride: number): number[] {
  return Array.from({ length: Math.floor((size - window) / stride) + 1 }, (_, k) => k * stride);
}

/** How many patches cover each position along one axis: [size]. */
function coverage(size: number, corners: number[], window: number): number[] {
  return Array.from({ length: size }, (_, h) => corners.filter((c) => h >= c && h < c + window).length);
}

/** Patch masks [rows, H, W] (1 inside the patch) for patches at (tops[r], lefts[r]). Call inside tidy. */
function patchMasks(tops: number[], lefts: number[], height: number, width: number, window: number): tf.Tensor3D {
  const along = (corners: number[], size: number) => {
    const position = tf.expandDims(tf.range(0, size, 1, 'int32'), 0); // [1, size]
    const start = tf.tensor2d(corners, [corners.length, 1], 'int32');
    return tf.cast(tf.logicalAnd(tf.greaterEqual(position, start), tf.less(position, tf.add(start, window))), 'float32'); // [rows, size]
  };
  return tf.mul(tf.expandDims(along(tops, height), 2), tf.expandDims(along(lefts, width), 1)) as tf.Tensor3D;
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
  let total = tf.zeros([n, height, width]) as tf.Tensor3D; // Σ drops over the patches covering each pixel
  try {
    await forEachChunk(n * patches, options.internalBatchSize, (start, end) => {
      const rows = Array.from({ length: end - start }, (_, j) => start + j);
      const patchOf = rows.map((r) => r % patches);
      const imageOf = rows.map((r) => Math.floor(r / patches));
      const next = tf.tidy(() => {
        const images = tf.tensor1d(imageOf, 'int32');
        const masks = patchMasks(patchOf.map((p) => tops[Math.floor(p / lefts.length)]), patchOf.map((p) => lefts[p % lefts.length]), height, width, window);
        const m = tf.expandDims(masks, 3); // [rows, H, W, 1], over all channels
        const black = tf.tensor1d(options.blackValue, 'float32');
        const occluded = tf.add(tf.mul(tf.gather(x, images), tf.sub(1, m)), tf.mul(m, black)) as tf.Tensor4D;
        const scores = targetScores(model, occluded, tf.tensor1d(imageOf.map((i) => targets[i]), 'int32'));
        const drops = tf.sub(tf.tensor1d(imageOf.map((i) => unoccluded[i])), scores);
        return tf.add(total, sumByImage(tf.mul(masks, tf.reshape(drops, [-1, 1, 1])), images, n)) as tf.Tensor3D;
      });
      total.dispose();
      total = next;
    });
    // Patches covering each pixel: the product of the row's and the column's counts (same for every image).
    const map = tf.tidy(() => {
      const count = tf.outerProduct(tf.tensor1d(coverage(height, tops, window)), tf.tensor1d(coverage(width, lefts, window)));
      return tf.div(total, tf.maximum(count, 1)) as tf.Tensor3D; // uncovered pixels: total 0 → 0
    });
    return { method: 'occlusion', map };
  } finally {
    total.dispose();
  }
};
