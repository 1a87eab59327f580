// The confusion matrix as a picture: an SVG (cells shaded by the row-normalised count, counts written in the
// cells, class names on both axes) rendered to PNG by sharp (librsvg draws the text). The layout is computed
// from the text it has to hold: the picture widens for its title (up to MAX_TEXT_WIDTH, then the title wraps),
// and the label margins grow with the longest class name (names beyond MAX_LABEL_WIDTH are shortened with '…'),
// so nothing is clipped at the edges.
import sharp from 'sharp';

import { textWidth, wrapText } from '../format/text_width';
import { escapeXml } from '../format/xml';

const CELL = 44;
const MARGIN = 12;
const RIGHT = 20;
const HEADING_PX = 16;
const DETAIL_PX = 13;
const CAPTION_PX = 11;
const LABEL_PX = 12;
/** Widest the picture grows for its title before the title wraps (a 2-class matrix stays readable). */
const MAX_TEXT_WIDTH = 560;
const MIN_WIDTH = 300;
const MAX_LABEL_WIDTH = 150;
const CAPTION = 'rows: true class · columns: predicted class';

/** A class name shortened with '…' to fit `maxWidth`. */
function fitLabel(name: string, maxWidth: number): string {
  if (textWidth(name, LABEL_PX) <= maxWidth) return name;
  let cut = name.length;
  while (cut > 1 && textWidth(`${name.slice(0, cut)}…`, LABEL_PX) > maxWidth) cut--;
  return `${name.slice(0, cut)}…`;
}

/**
 * The title without a repeated image count: 'Confusion matrix - validation (last 500 of 5000 images) (500 images)'
 * → '... (last 500 of 5000 images)'. The count is appended only when the description does not already give it.
 */
export function tidyTitle(title: string): string {
  const match = /^(.*\S) \((\d+) images?\)$/.exec(title);
  if (match && new RegExp(`(^|\\D)${match[2]}(\\D|$)`).test(match[1])) return match[1];
  return title;
}

/** The report's title for `split` (e.g. 'validation (last 500 of 5000 images)') and its image count. */
export function confusionTitle(split: string, count: number): string {
  return tidyTitle(`Confusion matrix - ${split} (${count} images)`);
}

export interface ConfusionLayout {
  width: number;
  height: number;
  /** Heading line (before ' - ' in the title) then the wrapped description lines; each with its font size and baseline. */
  titleLines: { text: string; px: number; y: number }[];
  /** Baseline of the caption line (rows/columns), the last line of the title area. */
  captionY: number;
  /** Everything above this y is title area. */
  titleBottom: number;
  gridLeft: number;
  gridTop: number;
  cell: number;
  /** The class names as drawn. */
  labels: string[];
}

/** Where everything goes for `numClasses` classes named `classNames` under `title`. */
export function confusionLayout(numClasses: number, classNames: string[], title = 'Confusion matrix'): ConfusionLayout {
  const names = Array.from({ length: numClasses }, (_, i) => classNames[i] ?? String(i));
  const labels = names.map((name) => fitLabel(name, MAX_LABEL_WIDTH));
  const labelWidth = Math.max(20, ...labels.map((l) => textWidth(l, LABEL_PX)));
  const left = MARGIN + labelWidth + 8;
  // Column labels are rotated by -60°: they reach down by sin 60° of their length (plus the font's own height).
  const bottom = 8 + labelWidth * 0.87 + LABEL_PX * 0.5 + MARGIN;
  const gridWidth = left + numClasses * CELL + RIGHT;

  const tidy = tidyTitle(title);
  const dash = tidy.indexOf(' - ');
  const heading = dash < 0 ? tidy : tidy.slice(0, dash);
  const detail = dash < 0 ? '' : tidy.slice(dash + 3);
  const wanted = Math.max(textWidth(heading, HEADING_PX), textWidth(detail, DETAIL_PX), textWidth(CAPTION, CAPTION_PX)) + 2 * MARGIN;
  const width = Math.ceil(Math.max(MIN_WIDTH, gridWidth, Math.min(wanted, MAX_TEXT_WIDTH)));
  const textRoom = width - 2 * MARGIN;

  const titleLines: ConfusionLayout['titleLines'] = [];
  let y = MARGIN;
  for (const text of wrapText(heading, HEADING_PX, textRoom)) titleLines.push({ text, px: HEADING_PX, y: (y += HEADING_PX + 4) });
  if (detail) for (const text of wrapText(detail, DETAIL_PX, textRoom)) titleLines.push({ text, px: DETAIL_PX, y: (y += DETAIL_PX + 5) });
  const captionY = (y += CAPTION_PX + 8);
  const titleBottom = y + 6;
  const gridTop = titleBottom + 8;
  return {
    width,
    height: Math.ceil(gridTop + numClasses * CELL + bottom),
    titleLines, captionY, titleBottom,
    gridLeft: Math.round(left + (width - gridWidth) / 2),
    gridTop, cell: CELL, labels,
  };
}

/** Pixel size of the PNG for `numClasses` classes (with the default title and names). */
export function confusionImageSize(numClasses: number, classNames: string[] = [], title?: string): { width: number; height: number } {
  const { width, height } = confusionLayout(numClasses, classNames, title);
  return { width, height };
}

/** matrix: [true][predicted] counts → SVG text. */
export function confusionSvg(matrix: number[][], classNames: string[], title = 'Confusion matrix'): string {
  const n = matrix.length;
  const layout = confusionLayout(n, classNames, title);
  const { width, height, gridLeft, gridTop, labels } = layout;
  const middle = width / 2;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...layout.titleLines.map((line, i) => `<text x="${middle}" y="${line.y}" font-size="${line.px}" text-anchor="middle"` +
      `${i === 0 ? ' font-weight="bold"' : ''}>${escapeXml(line.text)}</text>`),
    `<text x="${middle}" y="${layout.captionY}" font-size="${CAPTION_PX}" text-anchor="middle" fill="#555">${escapeXml(CAPTION)}</text>`,
  ];
  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const y = gridTop + t * CELL;
    parts.push(`<text x="${gridLeft - 8}" y="${y + CELL / 2 + 4}" font-size="${LABEL_PX}" text-anchor="end">${escapeXml(labels[t])}</text>`);
    row.forEach((count, p) => {
      const share = total === 0 ? 0 : count / total;
      // White → dark blue with the share of the true class's examples that landed in this cell.
      const r = Math.round(255 - share * (255 - 8));
      const g = Math.round(255 - share * (255 - 48));
      const b = Math.round(255 - share * (255 - 107));
      const x = gridLeft + p * CELL;
      parts.push(`<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="rgb(${r},${g},${b})" stroke="#ccc"/>`);
      parts.push(`<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" font-size="11" text-anchor="middle" ` +
        `fill="${share > 0.5 ? 'white' : 'black'}">${count}</text>`);
    });
  });
  labels.forEach((name, p) => {
    const x = gridLeft + p * CELL + CELL / 2;
    const y = gridTop + n * CELL + 8;
    parts.push(`<text x="${x}" y="${y}" font-size="${LABEL_PX}" text-anchor="end" transform="rotate(-60 ${x} ${y})">${escapeXml(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The PNG bytes of the confusion matrix picture. */
export async function confusionPng(matrix: number[][], classNames: string[], title = 'Confusion matrix'): Promise<Buffer> {
  return sharp(Buffer.from(confusionSvg(matrix, classNames, title))).png().toBuffer();
}
