// Nearest training images as a PNG: one strip per query — the query image, a separator, then its k nearest
// training images (most similar first), each captioned with its label and its cosine distance (1 − cosine
// similarity of the embeddings). With `queryLabel` set (e.g. the predicted class), neighbours of that label are
// captioned green and the others red, so "which training images does the decision lean on" reads at a glance.
//   GAP | query TILE | SEP | TILE | GAP | TILE ...     each strip TILE + CAPTION + GAP high
import sharp from 'sharp';

import { ruleError } from '../../errors';
import { escapeXml } from '../../format/xml';
import { checkPicture, FONT, formatValue, tilePng } from './drawing';

const TILE = 96;
const GAP = 8;
const SEP = 20;
const CAPTION = 32;

export interface StripNeighbour {
  /** RGB bytes [height, width, 3]. */
  image: Uint8Array;
  /** Class name of the training image. */
  label: string;
  /** 1 − cosine similarity (0 = same direction). */
  distance: number;
}

export interface NeighbourStrip {
  /** RGB bytes [height, width, 3]. */
  query: Uint8Array;
  /** Caption of the query, e.g. 'query: cat 93%'. */
  caption: string;
  /** Class the neighbours' labels are compared with (green when equal); none: all captions neutral. */
  queryLabel?: string;
  /** Nearest first. */
  neighbours: StripNeighbour[];
}

/** Pixel size for `strips` strips of at most `k` neighbours. */
export function stripLayout(strips: number, k: number): { width: number; height: number } {
  return { width: GAP + TILE + SEP + k * (TILE + GAP), height: GAP + strips * (TILE + CAPTION + GAP) };
}

/** Top-left corner of the query (slot 0) or of neighbour slot ≥ 1 in strip `strip`. */
export function stripSlotOrigin(strip: number, slot: number): { left: number; top: number } {
  const left = slot === 0 ? GAP : GAP + TILE + SEP + (slot - 1) * (TILE + GAP);
  return { left, top: GAP + strip * (TILE + CAPTION + GAP) };
}

/**
 * The strips as one PNG (images of height x width, enlarged to TILE px).
 * Example: `await neighbourStripsPng([{ query, caption: 'query: cat 93%', queryLabel: 'cat', neighbours }], { height: 32, width: 32 })`.
 */
export async function neighbourStripsPng(strips: NeighbourStrip[], options: { height: number; width: number }):
  Promise<{ png: Buffer; width: number; height: number }> {
  const { height, width } = options;
  if (strips.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'A neighbour picture needs at least one query.', { strips: 0 }, 'Pass one strip per query image.');
  }
  const k = Math.max(1, ...strips.map((s) => s.neighbours.length));
  const layout = stripLayout(strips.length, k);
  const size = { width: TILE, height: TILE };
  const layers: sharp.OverlayOptions[] = [];
  const svg: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="${FONT}">`];
  for (const [s, strip] of strips.entries()) {
    checkPicture(`strip ${s} query`, strip.query, height, width);
    const query = stripSlotOrigin(s, 0);
    layers.push({ input: await tilePng(strip.query, height, width, size), ...query });
    svg.push(`<text x="${query.left + TILE / 2}" y="${query.top + TILE + 14}" font-size="11" text-anchor="middle" font-weight="bold">${escapeXml(strip.caption)}</text>`);
    const lineX = query.left + TILE + SEP / 2;
    svg.push(`<line x1="${lineX}" y1="${query.top}" x2="${lineX}" y2="${query.top + TILE + CAPTION - 4}" stroke="#999" stroke-width="2"/>`);
    for (const [i, neighbour] of strip.neighbours.entries()) {
      checkPicture(`strip ${s} neighbour ${i}`, neighbour.image, height, width);
      const origin = stripSlotOrigin(s, i + 1);
      layers.push({ input: await tilePng(neighbour.image, height, width, size), ...origin });
      const colour = strip.queryLabel === undefined ? '#222' : neighbour.label === strip.queryLabel ? '#17803d' : '#c0262d';
      svg.push(`<text x="${origin.left + TILE / 2}" y="${origin.top + TILE + 14}" font-size="11" text-anchor="middle" fill="${colour}">` +
        `${i + 1}. ${escapeXml(neighbour.label)}</text>`);
      svg.push(`<text x="${origin.left + TILE / 2}" y="${origin.top + TILE + 27}" font-size="10" text-anchor="middle" fill="#555">` +
        `d = ${escapeXml(formatValue(neighbour.distance))}</text>`);
    }
  }
  svg.push('</svg>');
  layers.push({ input: Buffer.from(svg.join('\n')), left: 0, top: 0 });
  const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } })
    .composite(layers).png().toBuffer();
  return { png, width: layout.width, height: layout.height };
}
