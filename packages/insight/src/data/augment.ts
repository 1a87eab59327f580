// Training-time augmentation for HWC uint8 images, fused with normalization into one pass per image:
// random crop with zero padding (pad by `padding` black pixels on every side, crop back to H×W at a random
// offset), then horizontal flip, then normalize, then cutout (a size×size square set to 0 in the normalized
// output, as in DeVries & Taylor 2017). The random choices are drawn first (drawAugmentParams) and the kernel
// (renderImage) is a pure function of them, so tests can pass hand-picked parameters.
import { ruleError } from '../errors';
import { checkInteger } from './check_integer';
import { applyTable } from './normalize';
import { randomInt, type Rng } from './random';

export interface AugmentConfig {
  /** Pad every side with `padding` zero pixels, then crop a random H×W window (CIFAR recipe: padding 4). */
  randomCrop?: { padding: number };
  /** Mirror left-right with probability 1/2. */
  horizontalFlip?: boolean;
  /** Zero a size×size square centred on a random pixel (clipped at the borders). CIFAR recipe: size 16. */
  cutout?: { size: number };
}

/** Per-image parameters: [cropY, cropX, flip (0|1), cutoutCenterY, cutoutCenterX], 5 int32 per image. */
export const PARAMS_PER_IMAGE = 5;

/** Throws the house-style error unless `cfg` is a valid AugmentConfig for height×width images. */
export function checkAugmentConfig(cfg: AugmentConfig, height: number, width: number): void {
  if (cfg.randomCrop !== undefined) {
    checkInteger('INSIGHT_E_CONFIG', 'augment.randomCrop.padding', cfg.randomCrop?.padding, 0, Math.max(height, width),
      'Pass the padding in pixels, e.g. randomCrop: { padding: 4 } for 32x32 images.');
  }
  if (cfg.horizontalFlip !== undefined && typeof cfg.horizontalFlip !== 'boolean') {
    throw ruleError('INSIGHT_E_CONFIG', 'augment.horizontalFlip must be a boolean.', { horizontalFlip: cfg.horizontalFlip }, 'Pass true or false.');
  }
  if (cfg.cutout !== undefined) {
    checkInteger('INSIGHT_E_CONFIG', 'augment.cutout.size', cfg.cutout?.size, 1, Math.max(height, width),
      'Pass the square side in pixels, e.g. cutout: { size: 16 } for 32x32 images.');
  }
}

/** True when `cfg` changes images at all (otherwise the loader only normalizes). */
export function isAugmenting(cfg: AugmentConfig | undefined): boolean {
  return !!cfg && (!!cfg.randomCrop?.padding || !!cfg.horizontalFlip || !!cfg.cutout);
}

/**
 * Draws the parameters of `count` images from `rng`, image by image, in the fixed order crop, flip, cutout;
 * a disabled augmentation draws nothing. Returns [count, 5] int32 (see PARAMS_PER_IMAGE).
 * Without random crop the crop offset is `padding` = 0 (identity); without cutout the centre is -1 (none).
 */
export function drawAugmentParams(rng: Rng, count: number, height: number, width: number, cfg: AugmentConfig): Int32Array {
  const params = new Int32Array(count * PARAMS_PER_IMAGE);
  const pad = cfg.randomCrop?.padding ?? 0;
  for (let i = 0, p = 0; i < count; i++, p += PARAMS_PER_IMAGE) {
    if (pad > 0) {
      params[p] = randomInt(rng, 2 * pad + 1);
      params[p + 1] = randomInt(rng, 2 * pad + 1);
    }
    if (cfg.horizontalFlip) params[p + 2] = rng() < 0.5 ? 1 : 0;
    if (cfg.cutout) {
      params[p + 3] = randomInt(rng, height);
      params[p + 4] = randomInt(rng, width);
    } else {
      params[p + 3] = -1;
      params[p + 4] = -1;
    }
  }
  return params;
}

/**
 * Writes one augmented, normalized image. src: [H, W, 3] uint8 starting at srcOffset; out: [H, W, 3] float32
 * starting at outOffset; lut: the 3x256 normalization table. (cropY, cropX) is the window's top-left corner in
 * the padded image, so cropY = cropX = padding is the identity. Pixels from the padding get lut[c*256 + 0].
 * Inputs are trusted (checked by the public entry points).
 */
export function renderImage(
  src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, height: number, width: number,
  lut: Float32Array, padding: number, cropY: number, cropX: number, flip: boolean, cutoutY: number, cutoutX: number,
  cutoutSize: number,
): void {
  const z0 = lut[0], z1 = lut[256], z2 = lut[512];
  const rowLength = width * 3;
  // Output column x reads source column sx = (flip ? width-1-x : x) + cropX - padding; [x0, x1) is where sx is
  // inside the image, so the inner loop has no bounds test.
  const shift = cropX - padding;
  const x0 = Math.max(0, flip ? shift : -shift);
  const x1 = Math.min(width, flip ? width + shift : width - shift);
  for (let y = 0; y < height; y++) {
    const row = outOffset + y * rowLength;
    const sy = y + cropY - padding;
    if (sy < 0 || sy >= height || x0 >= x1) {
      fillPixels(out, row, row + rowLength, z0, z1, z2);
      continue;
    }
    fillPixels(out, row, row + x0 * 3, z0, z1, z2);
    fillPixels(out, row + x1 * 3, row + rowLength, z0, z1, z2);
    const srcRow = srcOffset + sy * rowLength;
    if (!flip) {
      applyTable(src, srcRow + (x0 + shift) * 3, (x1 - x0) * 3, lut, out, row + x0 * 3);
      continue;
    }
    for (let o = row + x0 * 3, end = row + x1 * 3, s = srcRow + (width - 1 - x0 + shift) * 3; o < end; o += 3, s -= 3) {
      out[o] = lut[src[s]];
      out[o + 1] = lut[256 + src[s + 1]];
      out[o + 2] = lut[512 + src[s + 2]];
    }
  }
  if (cutoutY >= 0) {
    const half = cutoutSize >> 1;
    const ya = Math.max(0, cutoutY - half), yb = Math.min(height, cutoutY - half + cutoutSize);
    const xa = Math.max(0, cutoutX - half), xb = Math.min(width, cutoutX - half + cutoutSize);
    for (let y = ya; y < yb; y++) {
      const row = outOffset + y * rowLength;
      out.fill(0, row + xa * 3, row + xb * 3);
    }
  }
}

/** Sets out[from..to) to the repeating pixel (z0, z1, z2). */
function fillPixels(out: Float32Array, from: number, to: number, z0: number, z1: number, z2: number): void {
  if (z0 === z1 && z1 === z2) {
    out.fill(z0, from, to);
    return;
  }
  for (let o = from; o < to; o += 3) {
    out[o] = z0; out[o + 1] = z1; out[o + 2] = z2;
  }
}
