// What every explanation picture is drawn with: tiles scaled with sharp (nearest-neighbour when enlarging, so a
// 32x32 image stays crisp and each input pixel stays one block), colour bars from a colour map's table, SVG text,
// and the checks of the pixels and maps a picture is given.
import sharp from 'sharp';

import { ruleError } from '../../errors';
import type { Colormap } from './colormap';

/** Text drawn over the pictures (librsvg's font lookup: DejaVu is on every Debian/Ubuntu machine). */
export const FONT = 'DejaVu Sans, sans-serif';

/** A map value for a legend: 3 significant digits, exponent notation outside [0.01, 10000). */
export function formatValue(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 0.01 && magnitude < 10000) return String(Number(value.toPrecision(3)));
  return value.toExponential(2);
}

/** The integer factor that brings the longer side of an image to about `target` pixels (1 for large images). */
export function displayScale(height: number, width: number, target = 256): number {
  return Math.max(1, Math.floor(target / Math.max(height, width)));
}

/** RGB bytes [height, width, 3] → PNG of `size` pixels (nearest-neighbour when enlarging, Lanczos when shrinking). */
export async function tilePng(pixels: Uint8Array, height: number, width: number, size: { width: number; height: number }): Promise<Buffer> {
  const kernel = size.width >= width && size.height >= height ? 'nearest' : 'lanczos3';
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 3 } })
    .resize(size.width, size.height, { kernel, fit: 'fill' }).png().toBuffer();
}

/**
 * A colour bar as a PNG: `length` steps along the bar, `thickness` across. Vertical bars have the high end at the
 * top; horizontal bars at the right. Each step is one entry of the table (a LUT pass over a few hundred pixels).
 */
export async function colourBarPng(colormap: Colormap, length: number, thickness: number, vertical: boolean): Promise<Buffer> {
  const [width, height] = vertical ? [thickness, length] : [length, thickness];
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along = vertical ? (height - 1 - y) / Math.max(1, height - 1) : x / Math.max(1, width - 1);
      const entry = Math.round(along * 255) * 3;
      pixels.set(colormap.lut.subarray(entry, entry + 3), (y * width + x) * 3);
    }
  }
  return sharp(Buffer.from(pixels.buffer), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Throws the house error unless `image` holds height·width RGB bytes and `map` (when given) height·width values. */
export function checkPicture(what: string, image: Uint8Array, height: number, width: number, map?: Float32Array): void {
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A picture needs a positive integer height and width.', { what, height, width },
      'Pass the input size of the model, e.g. height 32, width 32.');
  }
  if (image.length !== height * width * 3) {
    throw ruleError('INSIGHT_E_CONFIG', 'An image must hold height·width·3 RGB bytes.', { what, 'image.length': image.length, height, width },
      'Pass the image at the model\'s input size, as ImageDataset stores it ([H, W, 3] uint8).');
  }
  if (map !== undefined && map.length !== height * width) {
    throw ruleError('INSIGHT_E_CONFIG', 'A heat map must hold height·width values (one per input pixel).',
      { what, 'map.length': map.length, height, width }, 'Pass the map at input resolution, as the explanation methods return it.');
  }
}
