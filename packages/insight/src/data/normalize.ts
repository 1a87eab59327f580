// Pixel normalization: uint8 RGB → float32, either scaled to [0, 1] (the Keras reference: x / 255) or
// standardized per channel ((x / 255 - mean) / std). Implemented as a 3x256 lookup table, which is exact
// (each entry is computed in float64 and rounded once) and costs one load per byte.
import { ruleError } from '../errors';

export type Normalization =
  | { kind: 'scale' }
  | { kind: 'meanstd'; mean: [number, number, number]; std: [number, number, number] };

/** Throws the house-style error unless `n` is a valid Normalization. */
export function checkNormalization(n: Normalization): void {
  if (n?.kind === 'scale') return;
  if (n?.kind !== 'meanstd') {
    throw ruleError('INSIGHT_E_CONFIG', "normalization.kind must be 'scale' or 'meanstd'.", { kind: (n as { kind?: unknown })?.kind },
      "Pass { kind: 'scale' } (the reference) or { kind: 'meanstd', mean: [r, g, b], std: [r, g, b] }.");
  }
  const ok3 = (v: unknown, positive: boolean) => Array.isArray(v) && v.length === 3
    && v.every((x) => Number.isFinite(x) && (!positive || x > 0));
  if (!ok3(n.mean, false) || !ok3(n.std, true)) {
    throw ruleError('INSIGHT_E_CONFIG', 'meanstd normalization needs mean and std as 3 finite numbers each, std > 0.',
      { mean: n.mean, std: n.std }, 'Pass values on the [0, 1] scale, e.g. mean [0.4914, 0.4822, 0.4465], std [0.247, 0.243, 0.261].');
  }
}

/** lut[c * 256 + v] = normalized value of byte v in channel c (float32). */
export function normalizationTable(n: Normalization): Float32Array {
  checkNormalization(n);
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      lut[c * 256 + v] = n.kind === 'scale' ? v / 255 : (v / 255 - n.mean[c]) / n.std[c];
    }
  }
  return lut;
}

/**
 * Normalizes interleaved RGB bytes (any [..., 3] layout, e.g. [count, H, W, 3]) into float32 of the same length.
 * Example: normalizeImages(ds.images, { kind: 'scale' }) → values in [0, 1].
 */
export function normalizeImages(images: Uint8Array, normalization: Normalization, out?: Float32Array): Float32Array {
  if (images.length % 3 !== 0) {
    throw ruleError('INSIGHT_E_DATA', 'images must hold interleaved RGB (length a multiple of 3).', { 'images.length': images.length },
      'Pass the images of an ImageDataset.');
  }
  const result = out ?? new Float32Array(images.length);
  if (result.length !== images.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'out must have the same length as images.', { 'out.length': result.length, 'images.length': images.length },
      'Allocate new Float32Array(images.length), or omit out.');
  }
  applyTable(images, 0, images.length, normalizationTable(normalization), result, 0);
  return result;
}

/** out[outOffset + i] = lut[(i % 3) * 256 + src[from + i]] for i < length (length a multiple of 3). Trusts its inputs. */
export function applyTable(src: Uint8Array, from: number, length: number, lut: Float32Array, out: Float32Array, outOffset: number): void {
  for (let s = from, o = outOffset, end = from + length; s < end; s += 3, o += 3) {
    out[o] = lut[src[s]];
    out[o + 1] = lut[256 + src[s + 1]];
    out[o + 2] = lut[512 + src[s + 2]];
  }
}
