// A grid of sample predictions as one PNG: each tile is an input image (scaled to TILE px, nearest-neighbour when
// enlarged so small images stay crisp) with its predicted class and probability (green when right, red when
// wrong) and its true class underneath. Drawn with sharp: tiles composited onto a white canvas, text from an SVG.
import sharp from 'sharp';

import { escapeXml } from '../format/xml';

export interface SamplePrediction {
  /** RGB bytes, [height, width, 3]. */
  pixels: Uint8Array;
  height: number;
  width: number;
  label: number;
  predicted: number;
  probability: number;
}

const TILE = 96;
const CAPTION = 34;
const GAP = 8;

/** Pixel size of the grid for `count` samples in `columns` columns. */
export function gridSize(count: number, columns: number): { width: number; height: number } {
  const cols = Math.min(columns, Math.max(count, 1));
  const rows = Math.ceil(count / cols);
  return { width: GAP + cols * (TILE + GAP), height: GAP + rows * (TILE + CAPTION + GAP) };
}

/** The PNG bytes of the grid and its size. `classNames[i]` names class i. */
export async function predictionGridPng(samples: SamplePrediction[], classNames: string[], columns = 8): Promise<{ png: Buffer; width: number; height: number }> {
  const cols = Math.min(columns, Math.max(samples.length, 1));
  const { width, height } = gridSize(samples.length, cols);
  const name = (c: number) => classNames[c] ?? String(c);
  const svg: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`];
  const layers: sharp.OverlayOptions[] = [];
  for (const [i, s] of samples.entries()) {
    const left = GAP + (i % cols) * (TILE + GAP);
    const top = GAP + Math.floor(i / cols) * (TILE + CAPTION + GAP);
    const kernel = s.width < TILE ? 'nearest' : 'lanczos3';
    const tile = await sharp(Buffer.from(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength), { raw: { width: s.width, height: s.height, channels: 3 } })
      .resize(TILE, TILE, { kernel, fit: 'fill' }).png().toBuffer();
    layers.push({ input: tile, left, top });
    const right = s.predicted === s.label;
    svg.push(`<text x="${left + TILE / 2}" y="${top + TILE + 14}" font-size="11" text-anchor="middle" fill="${right ? '#17803d' : '#c0262d'}">` +
      `${escapeXml(name(s.predicted))} ${(100 * s.probability).toFixed(0)}%</text>`);
    svg.push(`<text x="${left + TILE / 2}" y="${top + TILE + 28}" font-size="10" text-anchor="middle" fill="#555">true: ${escapeXml(name(s.label))}</text>`);
  }
  svg.push('</svg>');
  layers.push({ input: Buffer.from(svg.join('\n')), left: 0, top: 0 });
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
  return { png, width, height };
}
