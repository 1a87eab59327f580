// How wide a line of SVG text is, without a font engine: advance widths estimated from character classes, and
// text wrapped to a width. The PNG pictures (eval/confusion_png.ts, calibrate/reliability_png.ts) size their
// boxes with these, so no text is clipped when librsvg draws it in DejaVu Sans.

/**
 * Advance width of `text` in DejaVu Sans at `px`, estimated from character classes (slightly generous: the real
 * text is never wider than this, so a box sized with it is never clipped).
 */
export function textWidth(text: string, px: number): number {
  let em = 0;
  for (const ch of text) {
    if (/[mwMW@%]/.test(ch)) em += 1.0;
    else if (/[A-Z]/.test(ch)) em += 0.78;
    else if (/[0-9]/.test(ch)) em += 0.64;
    else if (/[iljtfr.,:;|!'()[\] ]/.test(ch)) em += 0.42;
    else em += 0.64;
  }
  return em * px;
}

/** `text` in lines no wider than `maxWidth` at `px` (words kept whole unless one alone is too wide). */
export function wrapText(text: string, px: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (textWidth(candidate, px) <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    while (textWidth(line, px) > maxWidth && line.length > 1) {
      let cut = line.length - 1;
      while (cut > 1 && textWidth(line.slice(0, cut), px) > maxWidth) cut--;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line) lines.push(line);
  return lines;
}
