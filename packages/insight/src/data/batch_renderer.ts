// Turns a list of record indices into one normalized (and optionally augmented) batch. The same function runs
// inline on the main thread and inside loader workers; its random stream is keyed by (seed, epoch, batch),
// so a batch is identical wherever and whenever it is rendered.
import { drawAugmentParams, isAugmenting, PARAMS_PER_IMAGE, renderImage, type AugmentConfig } from './augment';
import { applyTable } from './normalize';
import { streamRng } from './random';

/** Everything that fixes how batches look, apart from which records they hold. Plain data: posted to workers. */
export interface BatchRecipe {
  height: number;
  width: number;
  /** The 3x256 normalization table (see normalizationTable). */
  lut: Float32Array;
  augment: AugmentConfig;
  seed: number;
}

/**
 * Renders the records `indices` of `images` ([count, H, W, 3] uint8) into x: [indices.length, H, W, 3] float32.
 * `offset` is where indices[0] sits in its whole batch (a data-parallel rank's slice of a global batch): every
 * image gets the augmentation it has in the whole batch, so the ranks' slices put together are the whole batch.
 * Example: renderBatch(ds.images, recipe, 0, 0, [5, 2]) → the 2-image first batch of epoch 0.
 */
export function renderBatch(
  images: Uint8Array, recipe: BatchRecipe, epoch: number, batch: number, indices: ArrayLike<number>, offset = 0,
): Float32Array {
  const { height, width, lut, augment } = recipe;
  const stride = height * width * 3;
  const n = indices.length;
  const x = new Float32Array(n * stride);
  if (!isAugmenting(augment)) {
    for (let k = 0; k < n; k++) applyTable(images, indices[k] * stride, stride, lut, x, k * stride);
    return x;
  }
  // The draws of the images before `offset` are made and dropped (5 numbers an image: cheap beside rendering).
  const params = drawAugmentParams(streamRng(recipe.seed, 'augment', epoch, batch), offset + n, height, width, augment)
    .subarray(offset * PARAMS_PER_IMAGE);
  const padding = augment.randomCrop?.padding ?? 0;
  const cutoutSize = augment.cutout?.size ?? 0;
  for (let k = 0, p = 0; k < n; k++, p += PARAMS_PER_IMAGE) {
    renderImage(images, indices[k] * stride, x, k * stride, height, width, lut, padding,
      params[p], params[p + 1], params[p + 2] === 1, params[p + 3], params[p + 4], cutoutSize);
  }
  return x;
}
