// Reading metrics.jsonl for tracking, tolerant of what real files contain: a line that is not JSON (a corrupt or
// hand-edited file) is skipped with a warning naming its line, and the last line of a running run may still be
// half-written (no newline yet), so it is left for the next read instead of being reported. Reads start at a byte
// offset so a live view reads only what was appended. Lines are split on bytes before decoding, so a multi-byte
// character cut by a read boundary is never mangled.
import * as fs from 'node:fs';

export type MetricRecord = Record<string, unknown>;

/** Where the previous read stopped: after the last complete line. */
export interface MetricsPosition {
  offset: number;
  /** Complete lines read so far (for warnings' line numbers). */
  line: number;
}

export interface MetricsChunk extends MetricsPosition {
  records: MetricRecord[];
  /** One per skipped line, e.g. 'metrics.jsonl line 7 is not valid JSON and was skipped: {"epoch": 3, "lo'. */
  warnings: string[];
}

const NEWLINE = 0x0a;

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * Records of `file` after `from` (default: the start). A trailing line without a newline is left unread unless
 * `final` (the run has ended: then it is reported as incomplete). A missing file reads as empty.
 */
export function readMetricsChunk(file: string, from: MetricsPosition = { offset: 0, line: 0 }, final = false): MetricsChunk {
  let bytes: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      bytes = Buffer.alloc(Math.max(0, size - from.offset));
      if (bytes.length > 0) fs.readSync(fd, bytes, 0, bytes.length, from.offset);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...from, records: [], warnings: [] };
    throw error;
  }
  const records: MetricRecord[] = [];
  const warnings: string[] = [];
  let start = 0;
  let line = from.line;
  const take = (end: number) => {
    line++;
    const text = bytes.subarray(start, end).toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      warnings.push(`metrics.jsonl line ${line} is not valid JSON and was skipped: ${preview(text)}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      warnings.push(`metrics.jsonl line ${line} is not a JSON object and was skipped: ${preview(text)}`);
      return;
    }
    records.push(value as MetricRecord);
  };
  for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, start)) {
    take(i);
    start = i + 1;
  }
  let offset = from.offset + start;
  if (final && start < bytes.length) {
    const rest = bytes.subarray(start).toString('utf8').trim();
    if (rest !== '') {
      const before = records.length;
      take(bytes.length);
      // A complete JSON object merely missing its newline is fine; anything else is a torn line.
      if (records.length === before) warnings[warnings.length - 1] = `metrics.jsonl line ${line} is incomplete (the writer stopped mid-line) and was skipped: ${preview(rest)}`;
    }
    offset = from.offset + bytes.length;
  }
  return { offset, line, records, warnings };
}
