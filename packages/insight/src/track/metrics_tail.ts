// Follows one run's metrics.jsonl as it grows (the live view): each poll returns only the records appended since
// the last one. A resumed run rewrites the file (dropping epochs after its checkpoint) under a new inode, and a
// deleted run loses it: both are detected, the first as a reset (start over), the second as gone.
import * as fs from 'node:fs';

import { readMetricsChunk, type MetricRecord, type MetricsPosition } from './metrics_file';

export interface TailUpdate {
  /** The file was replaced or shrank: `records` start from the beginning again. */
  reset: boolean;
  records: MetricRecord[];
  warnings: string[];
}

export class MetricsTail {
  private position: MetricsPosition;
  private inode: number | null = null;

  /** Starts after `from` (default: the start, so the first poll returns the whole file). */
  constructor(readonly file: string, from: MetricsPosition = { offset: 0, line: 0 }) {
    this.position = { ...from };
  }

  /** Where the next poll starts: pass it to a new tail to continue (e.g. after a reconnect). */
  get at(): MetricsPosition {
    return { ...this.position };
  }

  /** New complete records; `final` when the run has ended (a torn last line is then reported, not awaited). */
  poll(final = false): TailUpdate {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch {
      return { reset: false, records: [], warnings: [] };
    }
    let reset = false;
    if ((this.inode !== null && stat.ino !== this.inode) || stat.size < this.position.offset) {
      this.position = { offset: 0, line: 0 };
      reset = true;
    }
    this.inode = stat.ino;
    if (stat.size === this.position.offset && !reset) return { reset, records: [], warnings: [] };
    const chunk = readMetricsChunk(this.file, this.position, final);
    this.position = { offset: chunk.offset, line: chunk.line };
    return { reset, records: chunk.records, warnings: chunk.warnings };
  }
}
