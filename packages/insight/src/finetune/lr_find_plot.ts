// The range test as a picture: loss against learning rate on a log axis — the raw batch losses in grey, the smoothed
// loss in blue, the suggestion (minimum / 10) as a red vertical line and the steepest descent as a green one — an
// SVG rendered to PNG by sharp (librsvg draws the text), like the confusion matrix.
import sharp from 'sharp';

import { escapeXml } from '../format/xml';
import type { LrFindResult } from './lr_find';

const WIDTH = 640;
const HEIGHT = 420;
const PLOT = { left: 64, right: 20, top: 48, bottom: 56 };
export const COLORS = { raw: '#b0b0b0', smoothed: '#1f5fbf', suggestion: '#d62728', steepest: '#2ca02c' } as const;

/** 3.2e-3 style (1.0e0 for 1). */
export function formatLr(lr: number): string {
  return lr.toExponential(1).replace('e+', 'e');
}

/**
 * The y range: from below the smoothed minimum to the larger of the starting loss and 1.5 x the minimum, so the
 * divergence at the end does not squash the useful part (points above are clipped).
 */
function lossRange(result: LrFindResult): [number, number] {
  const finite = result.smoothed.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(finite[0] ?? low, low * 1.5, low + 1e-3);
  const pad = (high - low) * 0.08;
  return [low - pad, high + pad];
}

/** The SVG of the plot (640 x 420). */
export function lrFindSvg(result: LrFindResult, title: string): string {
  const [lo, hi] = [Math.log10(result.startLr), Math.log10(result.endLr)];
  const [yLow, yHigh] = lossRange(result);
  const plotW = WIDTH - PLOT.left - PLOT.right;
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (lr: number) => PLOT.left + ((Math.log10(lr) - lo) / (hi - lo)) * plotW;
  const y = (loss: number) => PLOT.top + (1 - (Math.min(Math.max(loss, yLow), yHigh) - yLow) / (yHigh - yLow)) * plotH;
  const line = (values: number[], color: string, stroke: number) => {
    const points = values.map((v, i) => (Number.isFinite(v) ? `${x(result.lrs[i]).toFixed(1)},${y(v).toFixed(1)}` : null)).filter((p) => p !== null);
    return `<polyline fill="none" stroke="${color}" stroke-width="${stroke}" points="${points.join(' ')}"/>`;
  };
  // A line's label goes on its right, or on its left in the right half of the plot (never clipped at the edge).
  const vertical = (lr: number, color: string, label: string, row: number) => {
    const left = x(lr) > PLOT.left + plotW / 2;
    return [
      `<line x1="${x(lr).toFixed(1)}" y1="${PLOT.top}" x2="${x(lr).toFixed(1)}" y2="${PLOT.top + plotH}" stroke="${color}" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="${(x(lr) + (left ? -4 : 4)).toFixed(1)}" y="${PLOT.top + 14 + row * 14}" font-size="11" fill="${color}"${left ? ' text-anchor="end"' : ''}>${escapeXml(label)}</text>`,
    ];
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" font-size="14" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`,
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  ];
  for (let decade = Math.ceil(lo); decade <= Math.floor(hi); decade++) {
    const px = x(10 ** decade).toFixed(1);
    parts.push(`<line x1="${px}" y1="${PLOT.top + plotH}" x2="${px}" y2="${PLOT.top + plotH + 5}" stroke="#333"/>`,
      `<line x1="${px}" y1="${PLOT.top}" x2="${px}" y2="${PLOT.top + plotH}" stroke="#eee"/>`,
      `<text x="${px}" y="${PLOT.top + plotH + 18}" font-size="11" text-anchor="middle">1e${decade}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const value = yLow + ((yHigh - yLow) * i) / 4;
    const py = y(value).toFixed(1);
    parts.push(`<line x1="${PLOT.left - 5}" y1="${py}" x2="${PLOT.left}" y2="${py}" stroke="#333"/>`,
      `<text x="${PLOT.left - 8}" y="${(y(value) + 4).toFixed(1)}" font-size="11" text-anchor="end">${value.toFixed(3)}</text>`);
  }
  parts.push(
    `<text x="${PLOT.left + plotW / 2}" y="${HEIGHT - 16}" font-size="12" text-anchor="middle">learning rate (log scale)</text>`,
    `<text x="16" y="${PLOT.top + plotH / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${PLOT.top + plotH / 2})">training loss</text>`,
    line(result.losses, COLORS.raw, 1),
    line(result.smoothed, COLORS.smoothed, 2.5),
    ...vertical(result.suggestion, COLORS.suggestion, `suggestion ${formatLr(result.suggestion)} (minimum/10)`, 0),
    ...vertical(result.steepest.lr, COLORS.steepest, `steepest ${formatLr(result.steepest.lr)}`, 1),
    '</svg>',
  );
  return parts.join('\n');
}

/** The plot as PNG bytes. */
export async function lrFindPng(result: LrFindResult, title: string): Promise<Buffer> {
  return sharp(Buffer.from(lrFindSvg(result, title))).png().toBuffer();
}
