// Where sampled requests go (--capture-dir): JSON lines, one record per request, written off the hot path.
// record() only appends a line to a memory buffer; a timer (or 256 KiB of lines) flushes it with one append to the
// open file `capture-<hour>-<pid>-<n>.jsonl.part`. A file is rotated — renamed to `.jsonl`, atomically, so whatever
// reads the folder sees only whole files — when its hour ends, when it reaches maxFileBytes, and on close.
// Retention: at start, hourly and at every rotation, files older than retentionHours are deleted (with the .part files
// of a process that was killed).
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CaptureWriterOptions {
  dir: string;
  retentionHours: number;
  /** Rotate the current file once it holds this many bytes (default 64 MiB). */
  maxFileBytes?: number;
  /** Flush the buffer at least this often (default 1000 ms). */
  flushMs?: number;
  /** The clock (tests move it to cross an hour). */
  now?: () => number;
}

const FLUSH_BYTES = 256 * 1024;
/** Finished capture files: capture-<yyyymmddThh>-<pid>-<n>.jsonl */
export const CAPTURE_FILE = /^capture-\d{8}T\d{2}-\d+-\d+\.jsonl$/;

export class CaptureWriter {
  private lines: string[] = [];
  private bufferedBytes = 0;
  private current: { file: string; hour: string; bytes: number } | null = null;
  private sequence = 0;
  /** Every file operation runs in order on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly maxFileBytes: number;
  private readonly now: () => number;
  /** Records dropped because a write failed (logged by the caller through onError). */
  dropped = 0;

  constructor(private readonly options: CaptureWriterOptions, private readonly onError: (error: Error) => void = () => undefined) {
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    fs.mkdirSync(options.dir, { recursive: true });
    this.enqueue(() => this.deleteExpired());
    // Retention also applies when no request comes to rotate the file.
    this.sweeper = setInterval(() => this.enqueue(() => this.deleteExpired()), 3600_000).unref();
  }

  /** Queues one record (a JSON line). Never blocks and never throws. */
  record(value: object): void {
    if (this.closed) return;
    const line = `${JSON.stringify(value)}\n`;
    this.lines.push(line);
    this.bufferedBytes += Buffer.byteLength(line);
    if (this.bufferedBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 1000).unref();
  }

  /** Writes what is buffered; resolves once it is on disk. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const lines = this.lines;
    this.lines = [];
    this.bufferedBytes = 0;
    if (lines.length > 0) this.enqueue(() => this.write(lines));
    return this.chain;
  }

  /** Flushes, finishes the current file and stops taking records. */
  close(): Promise<void> {
    void this.flush();
    this.closed = true;
    clearInterval(this.sweeper);
    this.enqueue(() => this.rotate());
    return this.chain;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((error: Error) => this.onError(error));
  }

  private async write(lines: string[]): Promise<void> {
    const hour = hourOf(this.now());
    if (this.current !== null && (this.current.hour !== hour || this.current.bytes >= this.maxFileBytes)) await this.rotate();
    if (this.current === null) {
      this.current = { file: path.join(this.options.dir, `capture-${hour}-${process.pid}-${++this.sequence}.jsonl.part`), hour, bytes: 0 };
    }
    const text = lines.join('');
    try {
      await fs.promises.appendFile(this.current.file, text, { mode: 0o600 });
      this.current.bytes += Buffer.byteLength(text);
    } catch (error) {
      this.dropped += lines.length;
      throw error;
    }
  }

  /** Renames the current .part file to .jsonl and applies retention. */
  private async rotate(): Promise<void> {
    const current = this.current;
    this.current = null;
    if (current !== null) await fs.promises.rename(current.file, current.file.slice(0, -'.part'.length));
    await this.deleteExpired();
  }

  private async deleteExpired(): Promise<void> {
    const cutoff = this.now() - this.options.retentionHours * 3600_000;
    for (const name of await fs.promises.readdir(this.options.dir)) {
      // Finished files, and .part files a killed process left behind (never the one being written).
      const unfinished = name.endsWith('.part') && CAPTURE_FILE.test(name.slice(0, -'.part'.length));
      if (!CAPTURE_FILE.test(name) && !unfinished) continue;
      const file = path.join(this.options.dir, name);
      if (file === this.current?.file) continue;
      const stat = await fs.promises.stat(file).catch(() => null);
      if (stat !== null && stat.mtimeMs < cutoff) await fs.promises.rm(file, { force: true });
    }
  }
}

/** 'yyyymmddThh' (UTC) of a time. */
function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/-/g, '');
}
