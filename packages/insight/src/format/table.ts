// Aligned plain-text tables for terminals and report files (evaluation reports, `insight runs`, `insight predict`).

/**
 * Renders rows as columns padded to their widest cell; `align` per column ('l' or 'r', default 'r' except the
 * first column). The header is underlined with dashes.
 */
export function formatTable(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  const pad = (cell: string, c: number) => ((align?.[c] ?? (c === 0 ? 'l' : 'r')) === 'l' ? cell.padEnd(widths[c]) : cell.padStart(widths[c]));
  const line = (row: string[]) => row.map((cell, c) => pad(cell ?? '', c)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
