// A TensorBoard event file writer: `events.out.tfevents.<unix seconds>.<hostname>` in a log directory, whose
// first record is the file version and whose other records are Summary events (scalars, histograms, images).
// Records are buffered and appended to the file (never rewritten) at most `flushSeconds` apart and on flush/close,
// so TensorBoard can read the file while it grows and a crash loses at most the unflushed tail. No file handle is
// held between flushes and the flush timer stops itself when idle, so an abandoned writer leaks nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { EVENT_FILE_PREFIX } from '../run/run_dir';
import { encodeEvent, type Histogram, type SummaryValue } from './event_proto';
import { frameRecord } from './tfrecord';

export const FILE_VERSION = 'brain.Event:2';

export interface EventWriterOptions {
  /** Longest time a record waits in memory before it is appended (default 2 s). */
  flushSeconds?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Host part of the file name (default os.hostname()). */
  hostname?: string;
  /** Called once when a write fails (disk full, directory deleted); later records are dropped. */
  onError?: (error: Error) => void;
}

/** `events.out.tfevents.<10-digit unix seconds>.<hostname>`, with `.<pid>` added only if that name exists. */
export function eventFileName(dir: string, unixSeconds: number, hostname: string): string {
  const base = `${EVENT_FILE_PREFIX}${String(Math.floor(unixSeconds)).padStart(10, '0')}.${hostname}`;
  return fs.existsSync(path.join(dir, base)) ? `${base}.${process.pid}` : base;
}

export class EventFileWriter {
  readonly path: string;
  private pending: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failed = false;
  private closed = false;
  private readonly flushMs: number;
  private readonly now: () => number;
  private readonly onError: (error: Error) => void;

  /** Creates the file in `dir` (made if missing) with its file-version record, written at once. */
  constructor(dir: string, options: EventWriterOptions = {}) {
    this.flushMs = (options.flushSeconds ?? 2) * 1000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    fs.mkdirSync(dir, { recursive: true });
    const started = this.now() / 1000;
    this.path = path.join(dir, eventFileName(dir, started, options.hostname ?? os.hostname()));
    this.pending.push(frameRecord(encodeEvent({ wallTime: started, step: 0, fileVersion: FILE_VERSION })));
    this.flush();
  }

  /** One event with any number of summary values at `step`. */
  add(step: number, values: SummaryValue[]): void {
    if (this.closed || this.failed || values.length === 0) return;
    this.pending.push(frameRecord(encodeEvent({ wallTime: this.now() / 1000, step, values })));
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.flushMs).unref();
  }

  addScalar(tag: string, value: number, step: number): void {
    this.add(step, [{ tag, simple_value: value }]);
  }

  /** Several scalars in one event, e.g. { 'epoch/loss': 0.9, 'epoch/accuracy': 0.7 }; non-finite values are kept (TensorBoard shows NaN). */
  addScalars(values: Record<string, number>, step: number): void {
    this.add(step, Object.entries(values).map(([tag, value]) => ({ tag, simple_value: value })));
  }

  addHistogram(tag: string, histo: Histogram, step: number): void {
    this.add(step, [{ tag, histo }]);
  }

  /** A PNG image; colorspace 3 = RGB, 4 = RGBA. */
  addImage(tag: string, png: Uint8Array, size: { height: number; width: number; colorspace?: number }, step: number): void {
    this.add(step, [{ tag, image: { height: size.height, width: size.width, colorspace: size.colorspace ?? 3, encoded_image_string: png } }]);
  }

  /** Appends every buffered record to the file. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 || this.failed) return;
    const bytes = Buffer.concat(this.pending);
    this.pending = [];
    try {
      fs.appendFileSync(this.path, bytes);
    } catch (error) {
      this.failed = true;
      this.onError(error as Error);
    }
  }

  /** Flushes; later records are ignored. Safe to call twice. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
