// Several explanations in one PNG: one row per image, the image itself in the first column, then one column per
// method (or per class), each cell its heat map blended over the image with the value range under it. Column
// labels on top, row labels on the left, and a legend at the bottom for each colour map used. Every map is
// normalized on its own (per image and method), as in the single overlays.
//   LABEL_W | GAP | TILE | GAP | TILE ...        header row of HEADER px
//   rows of TILE + RANGE_H + GAP px              one LEGEND_ROW per colour map used, then GAP
// The width is at least MIN_WIDTH so that a legend line fits beside a single column.
import sharp from 'sharp';

import { ruleError } from '../../errors';
import { escapeXml } from '../../format/xml';
import { heatTiles, DEFAULT_ALPHA } from './blend';
import { colormapFor, normalizationNote, type MapRange } from './colormap';
import { checkPicture, colourBarPng, FONT, formatValue, tilePng } from './drawing';

const TILE = 128;
const GAP = 8;
const LABEL_W = 120;
const HEADER = 28;
const RANGE_H = 16;
const LEGEND_ROW = 26;
const LEGEND_BAR = 160;
const MIN_WIDTH = 640;

export interface GridCell {
  /** [height · width] heat map of the row's image. */
  map: Float32Array;
  /** True for signed maps (SIGNED_METHODS: IG, occlusion). */
  signed: boolean;
}

export interface GridRow {
  /** Row label; '\n' separates lines (e.g. 'cat_3.png\ntrue: cat'). */
  label: string;
  /** RGB bytes [height, width, 3]. */
  image: Uint8Array;
  /** One cell per heat column, in the order of `columns`. */
  cells: GridCell[];
}

/** Pixel size of a grid of `rows` x (1 + `columns`) tiles with `legends` colour maps (1 or 2) in its legend. */
export function gridLayout(rows: number, columns: number, legends: number): { width: number; height: number; tile: number } {
  return {
    width: Math.max(MIN_WIDTH, LABEL_W + GAP + (columns + 1) * (TILE + GAP)),
    height: HEADER + rows * (TILE + RANGE_H + GAP) + legends * LEGEND_ROW + GAP,
    tile: TILE,
  };
}

/** Top-left corner of the tile at (row, column); column 0 is the image, 1.. the heat columns. */
export function gridCellOrigin(row: number, column: number): { left: number; top: number } {
  return { left: LABEL_W + GAP + column * (TILE + GAP), top: HEADER + row * (TILE + RANGE_H + GAP) };
}

/**
 * The grid PNG. `columns` names the heat columns (methods, or classes); every row has one cell per column.
 * Also returns each cell's range [row][column].
 * Example: `await explanationGridPng(rows, ['gradcam', 'ig'], { height: 32, width: 32 })`.
 */
export async function explanationGridPng(rows: GridRow[], columns: string[], options: { height: number; width: number; alpha?: number }):
  Promise<{ png: Buffer; width: number; height: number; ranges: MapRange[][] }> {
  const { height, width } = options;
  if (rows.length === 0 || columns.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'A grid needs at least one row and one column.', { rows: rows.length, columns: columns.length },
      'Pass one row per image and one column per method or class.');
  }
  rows.forEach((row, r) => {
    if (row.cells.length !== columns.length) {
      throw ruleError('INSIGHT_E_CONFIG', 'Every grid row needs one cell per column.', { row: r, cells: row.cells.length, columns: columns.length },
        'Give each row a map for every column, in column order.');
    }
    checkPicture(`grid row ${r}`, row.image, height, width);
    row.cells.forEach((cell, c) => checkPicture(`grid row ${r}, column ${columns[c]}`, row.image, height, width, cell.map));
  });
  const used = [false, true].filter((signed) => rows.some((row) => row.cells.some((cell) => cell.signed === signed)));
  const layout = gridLayout(rows.length, columns.length, used.length);
  const size = { width: TILE, height: TILE };
  const layers: sharp.OverlayOptions[] = [];
  const svg: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="${FONT}">`];
  const ranges: MapRange[][] = rows.map(() => []);
  ['image', ...columns].forEach((name, c) => {
    const { left } = gridCellOrigin(0, c);
    svg.push(`<text x="${left + TILE / 2}" y="${HEADER - 10}" font-size="13" text-anchor="middle">${escapeXml(name)}</text>`);
  });
  for (const [r, row] of rows.entries()) {
    const origin = gridCellOrigin(r, 0);
    layers.push({ input: await tilePng(row.image, height, width, size), ...origin });
    row.label.split('\n').forEach((line, i) => {
      svg.push(`<text x="${LABEL_W}" y="${origin.top + 18 + 15 * i}" font-size="12" text-anchor="end">${escapeXml(line)}</text>`);
    });
  }
  // One batched blend per kind of map (sequential / signed), whatever the number of cells.
  for (const signed of [false, true]) {
    const cells = rows.flatMap((row, r) => row.cells.map((cell, c) => ({ row, r, c, cell }))).filter((x) => x.cell.signed === signed);
    const tiles = await heatTiles(cells.map((x) => x.row.image), cells.map((x) => x.cell.map), height, width,
      { signed, alpha: options.alpha ?? DEFAULT_ALPHA });
    for (const [i, { r, c }] of cells.entries()) {
      const origin = gridCellOrigin(r, c + 1);
      layers.push({ input: await tilePng(tiles[i].pixels, height, width, size), ...origin });
      ranges[r][c] = tiles[i].range;
      const text = `${formatValue(tiles[i].range.low)} … ${formatValue(tiles[i].range.high)}`;
      svg.push(`<text x="${origin.left + TILE / 2}" y="${origin.top + TILE + 12}" font-size="10" text-anchor="middle" fill="#555">${escapeXml(text)}</text>`);
    }
  }
  // Legend: one line per colour map in use — low label, the bar (low end left), high label, how maps were normalized.
  for (const [i, signed] of used.entries()) {
    const left = LABEL_W + GAP;
    const top = HEADER + rows.length * (TILE + RANGE_H + GAP) + i * LEGEND_ROW + 6;
    layers.push({ input: await colourBarPng(colormapFor(signed), LEGEND_BAR, 12, false), left, top });
    const [lowText, highText] = signed ? ['− against', '+ for'] : ['low', 'high'];
    svg.push(`<text x="${left - 6}" y="${top + 10}" font-size="11" text-anchor="end">${escapeXml(lowText)}</text>`);
    svg.push(`<text x="${left + LEGEND_BAR + 6}" y="${top + 10}" font-size="11">${escapeXml(highText)}</text>`);
    svg.push(`<text x="${left + LEGEND_BAR + 50}" y="${top + 10}" font-size="10" fill="#666">` +
      `${escapeXml(`${colormapFor(signed).name}: ${normalizationNote(signed)}`)}</text>`);
  }
  svg.push('</svg>');
  layers.push({ input: Buffer.from(svg.join('\n')), left: 0, top: 0 });
  const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } })
    .composite(layers).png().toBuffer();
  return { png, width: layout.width, height: layout.height, ranges };
}
