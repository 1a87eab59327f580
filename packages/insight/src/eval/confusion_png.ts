// The confusion matrix as a picture: an SVG (cells shaded by the row-normalised count, counts written in the
// cells, class names on both axes) rendered to PNG by sharp (librsvg draws the text).
import sharp from 'sharp';

const CELL = 44;
const LEFT = 130;
const TOP = 70;
const BOTTOM = 110;
const RIGHT = 20;

/** Pixel size of the PNG for `numClasses` classes. */
export function confusionImageSize(numClasses: number): { width: number; height: number } {
  return { width: LEFT + numClasses * CELL + RIGHT, height: TOP + numClasses * CELL + BOTTOM };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** matrix: [true][predicted] counts → SVG text. */
export function confusionSvg(matrix: number[][], classNames: string[], title: string): string {
  const n = matrix.length;
  const { width, height } = confusionImageSize(n);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${LEFT + (n * CELL) / 2}" y="28" font-size="16" text-anchor="middle">${escapeXml(title)}</text>`,
    `<text x="${LEFT + (n * CELL) / 2}" y="52" font-size="12" text-anchor="middle" fill="#555">rows: true class - columns: predicted class</text>`,
  ];
  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const y = TOP + t * CELL;
    parts.push(`<text x="${LEFT - 8}" y="${y + CELL / 2 + 4}" font-size="12" text-anchor="end">${escapeXml(classNames[t] ?? String(t))}</text>`);
    row.forEach((count, p) => {
      const share = total === 0 ? 0 : count / total;
      // White → dark blue with the share of the true class's examples that landed in this cell.
      const r = Math.round(255 - share * (255 - 8));
      const g = Math.round(255 - share * (255 - 48));
      const b = Math.round(255 - share * (255 - 107));
      const x = LEFT + p * CELL;
      parts.push(`<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="rgb(${r},${g},${b})" stroke="#ccc"/>`);
      parts.push(`<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" font-size="11" text-anchor="middle" ` +
        `fill="${share > 0.5 ? 'white' : 'black'}">${count}</text>`);
    });
  });
  classNames.forEach((name, p) => {
    const x = LEFT + p * CELL + CELL / 2;
    const y = TOP + n * CELL + 8;
    parts.push(`<text x="${x}" y="${y}" font-size="12" text-anchor="end" transform="rotate(-60 ${x} ${y})">${escapeXml(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The PNG bytes of the confusion matrix picture. */
export async function confusionPng(matrix: number[][], classNames: string[], title = 'Confusion matrix'): Promise<Buffer> {
  return sharp(Buffer.from(confusionSvg(matrix, classNames, title))).png().toBuffer();
}
