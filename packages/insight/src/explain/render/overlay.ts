// One explanation as a PNG: the heat map blended over the image (enlarged to a readable size, nearest-neighbour for
// small inputs), a caption (method, class, probability), and a legend: a colour bar with the values its ends and
// middle stand for, and how the map was normalized. Layout (px):
//   PAD | caption (CAPTION high)                                        | PAD
//   PAD | image·scale  | BAR_GAP | bar (BAR wide) | 4 | values (LABELS) | PAD
//   PAD | normalization note (NOTE high)                                | PAD
import sharp from 'sharp';

import { escapeXml } from '../../format/xml';
import { heatTiles, DEFAULT_ALPHA } from './blend';
import { colormapFor, normalizationNote, type MapRange } from './colormap';
import { checkPicture, colourBarPng, displayScale, FONT, formatValue, tilePng } from './drawing';

const PAD = 12;
const CAPTION = 44;
const NOTE = 20;
const BAR_GAP = 14;
const BAR = 14;
const LABELS = 72;

export interface OverlayCaption {
  /** e.g. 'gradcam'. */
  method: string;
  /** The explained class. */
  className: string;
  /** The model's probability of that class for this image, in [0, 1]. */
  probability: number;
}

export interface OverlayInput {
  /** RGB bytes [height, width, 3]. */
  image: Uint8Array;
  height: number;
  width: number;
  /** [height · width] heat map at input resolution. */
  map: Float32Array;
  /** True for signed maps (SIGNED_METHODS: IG, occlusion): diverging colours, symmetric percentile clip. */
  signed: boolean;
  caption: OverlayCaption;
  /** Weight of the heat map in the blend (default 0.5). */
  alpha?: number;
}

/** Where the parts of an overlay picture sit, for an input of height x width. */
export function overlayLayout(height: number, width: number): {
  width: number; height: number; scale: number; image: { left: number; top: number; width: number; height: number };
} {
  const scale = displayScale(height, width);
  const image = { left: PAD, top: PAD + CAPTION, width: width * scale, height: height * scale };
  return {
    width: PAD + image.width + BAR_GAP + BAR + 4 + LABELS + PAD,
    height: image.top + image.height + NOTE + PAD,
    scale,
    image,
  };
}

/**
 * The overlay PNG and the map range its colour bar shows.
 * Example: `const { png } = await overlayPng({ image, height: 32, width: 32, map, signed: false,
 *   caption: { method: 'gradcam', className: 'cat', probability: 0.93 } })`.
 */
export async function overlayPng(input: OverlayInput): Promise<{ png: Buffer; width: number; height: number; range: MapRange }> {
  const { image, height, width, map, signed, caption } = input;
  checkPicture('overlay', image, height, width, map);
  const [tile] = await heatTiles([image], [map], height, width, { signed, alpha: input.alpha ?? DEFAULT_ALPHA });
  const layout = overlayLayout(height, width);
  const box = layout.image;
  const barLeft = box.left + box.width + BAR_GAP;
  const labelLeft = barLeft + BAR + 4;
  const { low, high } = tile.range;
  const ticks = [
    { y: box.top + 10, value: high },
    { y: box.top + box.height / 2 + 4, value: (low + high) / 2 },
    { y: box.top + box.height, value: low },
  ];
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="${FONT}">`,
    `<text x="${PAD}" y="${PAD + 16}" font-size="15">${escapeXml(caption.method)} — ${escapeXml(caption.className)}</text>`,
    `<text x="${PAD}" y="${PAD + 36}" font-size="12" fill="#444">p = ${(100 * caption.probability).toFixed(1)}%</text>`,
    ...ticks.map((t) => `<text x="${labelLeft}" y="${t.y}" font-size="11">${escapeXml(formatValue(t.value))}</text>`),
    `<text x="${PAD}" y="${box.top + box.height + 15}" font-size="10" fill="#666">${escapeXml(`${colormapFor(signed).name}, ${normalizationNote(signed)}`)}</text>`,
    '</svg>',
  ].join('\n');
  const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: await tilePng(tile.pixels, height, width, box), left: box.left, top: box.top },
      { input: await colourBarPng(colormapFor(signed), box.height, BAR, true), left: barLeft, top: box.top },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .png().toBuffer();
  return { png, width: layout.width, height: layout.height, range: tile.range };
}
