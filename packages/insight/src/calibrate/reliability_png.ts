// The reliability diagram (Guo et al. 2017, figure 1) as a picture: per confidence bin, a bar up to the bin's accuracy,
// the gap between that accuracy and the bin's mean confidence shaded red, the diagonal (perfect calibration) dashed;
// below it, the examples per bin as a small histogram with the counts written in; the ECE and MCE in the title.
// Drawn like eval/confusion_png.ts: an SVG rendered to PNG by sharp (librsvg draws the text), sized from its text.
import sharp from 'sharp';

import { textWidth, wrapText } from '../format/text_width';
import { escapeXml } from '../format/xml';
import type { Calibration } from './ece';

const MARGIN = 12;
const HEADING_PX = 16;
const DETAIL_PX = 13;
const AXIS_PX = 12;
const TICK_PX = 11;
const COUNT_PX = 10;
/** Side of the square plot (confidence × accuracy). */
const PLOT = 360;
/** Height of the examples-per-bin histogram under the plot. */
const HISTOGRAM = 70;
/** Left of the plot: tick labels and the rotated axis title. */
const LEFT = 64;
const RIGHT = 24;
const MAX_TEXT_WIDTH = 560;

export const BAR_FILL = 'rgb(31,78,140)';
export const GAP_FILL = 'rgb(230,120,120)';
export const HISTOGRAM_FILL = 'rgb(150,150,150)';

export interface ReliabilityLayout {
  width: number;
  height: number;
  titleLines: { text: string; px: number; y: number }[];
  /** Top-left corner of the plot; it spans PLOT pixels both ways (confidence 0..1 left to right, accuracy 0..1 up). */
  plotLeft: number;
  plotTop: number;
  plotSize: number;
  /** Top of the histogram strip (its bars grow up from histogramTop + histogramHeight). */
  histogramTop: number;
  histogramHeight: number;
}

/** The title's lines: 'Reliability diagram', what was measured (e.g. 'validation (last 5000 images), T = 1'), the figures. */
export function reliabilityTitle(split: string, calibration: Calibration): string[] {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  return ['Reliability diagram', split,
    `ECE ${pct(calibration.ece)} · MCE ${pct(calibration.mce)} · accuracy ${pct(calibration.accuracy)} · ` +
      `${calibration.bins.length} bins · ${calibration.count} images`];
}

/** Where everything goes for a diagram titled `lines` (a bold heading, then detail lines). */
export function reliabilityLayout(lines: string[]): ReliabilityLayout {
  const [heading, ...details] = lines;
  const plotWidth = LEFT + PLOT + RIGHT;
  const wanted = Math.max(textWidth(heading, HEADING_PX), ...details.map((d) => textWidth(d, DETAIL_PX))) + 2 * MARGIN;
  const width = Math.ceil(Math.max(plotWidth, Math.min(wanted, MAX_TEXT_WIDTH)));
  const textRoom = width - 2 * MARGIN;
  const titleLines: ReliabilityLayout['titleLines'] = [];
  let y = MARGIN;
  for (const text of wrapText(heading, HEADING_PX, textRoom)) titleLines.push({ text, px: HEADING_PX, y: (y += HEADING_PX + 4) });
  for (const detail of details) {
    for (const text of wrapText(detail, DETAIL_PX, textRoom)) titleLines.push({ text, px: DETAIL_PX, y: (y += DETAIL_PX + 5) });
  }
  const plotTop = y + 18;
  const plotLeft = Math.round(LEFT + (width - plotWidth) / 2);
  // Under the plot: tick labels, then the histogram (with its count labels), then the x axis title.
  const histogramTop = plotTop + PLOT + TICK_PX + 14;
  const height = histogramTop + HISTOGRAM + AXIS_PX + 16 + MARGIN;
  return { width, height, titleLines, plotLeft, plotTop, plotSize: PLOT, histogramTop, histogramHeight: HISTOGRAM };
}

/** The diagram of `calibration` (calibrate/ece.ts) for the data described by `split`, as SVG text. */
export function reliabilitySvg(calibration: Calibration, split: string): string {
  const layout = reliabilityLayout(reliabilityTitle(split, calibration));
  const { width, height, plotLeft: x0, plotTop: y0, histogramTop, histogramHeight } = layout;
  const x = (confidence: number) => x0 + confidence * PLOT;
  const y = (accuracy: number) => y0 + (1 - accuracy) * PLOT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...layout.titleLines.map((line, i) => `<text x="${width / 2}" y="${line.y}" font-size="${line.px}" text-anchor="middle"` +
      `${i === 0 ? ' font-weight="bold"' : ''}>${escapeXml(line.text)}</text>`),
  ];
  // Grid and ticks every 0.2.
  for (let t = 0; t <= 5; t++) {
    const v = t / 5;
    parts.push(`<line x1="${x0}" y1="${y(v)}" x2="${x0 + PLOT}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<line x1="${x(v)}" y1="${y0}" x2="${x(v)}" y2="${y0 + PLOT}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y(v) + 4}" font-size="${TICK_PX}" text-anchor="end">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${x(v)}" y="${y0 + PLOT + TICK_PX + 4}" font-size="${TICK_PX}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  const maxCount = Math.max(1, ...calibration.bins.map((b) => b.count));
  for (const bin of calibration.bins) {
    const left = x(bin.lower);
    const barWidth = x(bin.upper) - left;
    const middle = left + barWidth / 2;
    if (bin.count > 0) {
      const accuracy = bin.accuracy!;
      const confidence = bin.confidence!;
      parts.push(`<rect x="${left}" y="${y(accuracy)}" width="${barWidth}" height="${y(0) - y(accuracy)}" fill="${BAR_FILL}" stroke="white" stroke-width="0.5"/>`);
      // The gap: from the accuracy to the bin's mean confidence (above the bar when over-confident, inside it when under).
      const top = y(Math.max(accuracy, confidence));
      const gap = Math.abs(y(accuracy) - y(confidence));
      if (gap > 0) parts.push(`<rect x="${left}" y="${top}" width="${barWidth}" height="${gap}" fill="${GAP_FILL}" fill-opacity="0.75" stroke="rgb(200,40,40)" stroke-width="0.8"/>`);
    }
    // Histogram of examples per bin, the count written above (rotated when the bins are narrow).
    const barHeight = (bin.count / maxCount) * (histogramHeight - 26);
    const base = histogramTop + histogramHeight;
    // A 1-pixel margin each side while the bins are wide enough; narrower ones (hundreds of bins) fill their width,
    // as a negative SVG width would drop the bar.
    const inset = barWidth > 4 ? 1 : 0;
    if (bin.count > 0) parts.push(`<rect x="${left + inset}" y="${base - barHeight}" width="${barWidth - 2 * inset}" height="${barHeight}" fill="${HISTOGRAM_FILL}"/>`);
    const label = String(bin.count);
    const rotate = textWidth(label, COUNT_PX) > barWidth - 2;
    const labelY = base - barHeight - 3;
    parts.push(`<text x="${rotate ? middle + COUNT_PX / 2 - 1 : middle}" y="${labelY}" font-size="${COUNT_PX}" fill="#333" ` +
      `text-anchor="${rotate ? 'start' : 'middle'}"${rotate ? ` transform="rotate(-90 ${middle + COUNT_PX / 2 - 1} ${labelY})"` : ''}>${label}</text>`);
  }
  parts.push(`<line x1="${x0}" y1="${histogramTop + histogramHeight}" x2="${x0 + PLOT}" y2="${histogramTop + histogramHeight}" stroke="#555"/>`);
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  parts.push(`<rect x="${x0}" y="${y0}" width="${PLOT}" height="${PLOT}" fill="none" stroke="#555"/>`);
  // Axis titles and the legend (top left, inside the plot).
  parts.push(`<text x="${x0 + PLOT / 2}" y="${height - MARGIN}" font-size="${AXIS_PX}" text-anchor="middle">confidence (top-1 probability) · examples per bin below</text>`);
  parts.push(`<text x="${x0 - 40}" y="${y0 + PLOT / 2}" font-size="${AXIS_PX}" text-anchor="middle" transform="rotate(-90 ${x0 - 40} ${y0 + PLOT / 2})">accuracy</text>`);
  const legend = [[BAR_FILL, 'accuracy'], [GAP_FILL, 'gap to confidence']] as const;
  legend.forEach(([fill, text], i) => {
    const ly = y0 + 10 + i * 18;
    parts.push(`<rect x="${x0 + 10}" y="${ly}" width="14" height="12" fill="${fill}"/>`);
    parts.push(`<text x="${x0 + 30}" y="${ly + 10}" font-size="${TICK_PX}">${escapeXml(text)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The PNG bytes of the reliability diagram. */
export async function reliabilityPng(calibration: Calibration, split: string): Promise<Buffer> {
  return sharp(Buffer.from(reliabilitySvg(calibration, split))).png().toBuffer();
}
