// A small streaming reader for tar archives (ustar, GNU long names, pax paths), gzip-compressed or not.
// It extracts only the regular files the caller picks, flat into one folder, so entry paths are never used
// as file-system paths (no traversal risk). Tar is 512-byte blocks: a header, then the file data padded
// to a block boundary; the archive ends with zero blocks.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/** Why an archive could not be read; `message` says what was wrong in plain words. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface ExtractResult {
  /** sha256 of the archive file as stored (hex). */
  sha256: string;
  /** Entry paths (inside the archive) of the files written. */
  extracted: string[];
}

/**
 * Streams `archive` (tar or tar.gz) and writes every regular file for which `pick(entryPath)` returns a name
 * to `destDir/<name>`. Throws ArchiveError on gzip errors, bad header checksums and truncation.
 * Example: extractTar('x.tar.gz', dir, (p) => path.basename(p) === 'a.bin' ? 'a.bin' : null).
 */
export async function extractTar(archive: string, destDir: string, pick: (entryPath: string) => string | null): Promise<ExtractResult> {
  const hash = createHash('sha256');
  const magic = Buffer.alloc(2);
  const fh = await open(archive, 'r');
  try { await fh.read(magic, 0, 2, 0); } finally { await fh.close(); }
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  const parser = new TarParser(destDir, pick);
  const hashed = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      hash.update(chunk);
      yield chunk;
    }
  };
  const consume = async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) await parser.push(chunk);
  };
  try {
    if (gzipped) await pipeline(createReadStream(archive), hashed, createGunzip(), consume);
    else await pipeline(createReadStream(archive), hashed, consume);
  } catch (err) {
    await parser.abort();
    const e = err as NodeJS.ErrnoException;
    if (e instanceof ArchiveError) throw e;
    if (e.code?.startsWith('Z_') || e.code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
      throw new ArchiveError(`its gzip stream is ${e.code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt'} (${e.message})`);
    }
    throw err;
  }
  parser.finish();
  return { sha256: hash.digest('hex'), extracted: parser.extracted };
}

/** Incremental tar state machine; push() is awaited chunk by chunk so file writes apply backpressure. */
class TarParser {
  readonly extracted: string[] = [];
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0; // data bytes left in the current entry
  private padding = 0; // bytes after the data up to the block boundary
  private entry = '';
  private out: FileHandle | null = null;
  private meta: Buffer[] | null = null; // body of a GNU long-name or pax header, collected in memory
  private metaType = '';
  private longName: string | null = null;
  private ended = false;

  constructor(private readonly destDir: string, private readonly pick: (entryPath: string) => string | null) {}

  private busy: Promise<void> = Promise.resolve();

  push(chunk: Buffer): Promise<void> {
    this.busy = this.consume(chunk);
    return this.busy;
  }

  private async consume(chunk: Buffer): Promise<void> {
    let i = 0;
    while (i < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        const part = chunk.subarray(i, i + take);
        if (this.out) await this.out.write(part);
        else if (this.meta) this.meta.push(Buffer.from(part));
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) await this.endEntry();
      } else if (this.padding > 0) {
        const skip = Math.min(this.padding, chunk.length - i);
        this.padding -= skip;
        i += skip;
      } else {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - i);
        chunk.copy(this.header, this.headerFill, i, i + take);
        this.headerFill += take;
        i += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          await this.startEntry();
        }
      }
    }
  }

  /** Throws unless the stream stopped at an entry boundary. */
  finish(): void {
    if (this.remaining > 0 || this.headerFill > 0) {
      throw new ArchiveError(`it is truncated (the data of ${this.entry || 'a header'} ends early)`);
    }
  }

  /** Closes the open output file once the chunk being written (if any) is done. */
  async abort(): Promise<void> {
    await this.busy.catch(() => undefined);
    await this.out?.close().catch(() => undefined);
    this.out = null;
  }

  private async startEntry(): Promise<void> {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    if (checksum(h) !== parseOctal(h, 148, 8)) {
      throw new ArchiveError(`a tar header checksum does not match (after ${this.extracted.length} extracted files); the archive is corrupt`);
    }
    const size = parseSize(h);
    const type = String.fromCharCode(h[156] || 0x30);
    const name = this.longName ?? headerPath(h);
    this.longName = null;
    this.entry = name;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'L' || type === 'x') {
      this.meta = [];
      this.metaType = type;
    } else if (type === '0' || type === '7') {
      const target = this.pick(name);
      if (target !== null) {
        this.out = await open(path.join(this.destDir, target), 'w');
        this.extracted.push(name);
      }
    }
    if (size === 0) await this.endEntry();
  }

  private async endEntry(): Promise<void> {
    if (this.out) {
      await this.out.close();
      this.out = null;
    }
    if (this.meta) {
      const body = Buffer.concat(this.meta).toString('utf8');
      this.meta = null;
      this.longName = this.metaType === 'L' ? body.replace(/\0.*$/s, '') : paxPath(body);
    }
  }
}

/** Sum of the header bytes with the checksum field (148..155) counted as spaces. */
function checksum(h: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += h[i];
  return sum;
}

/** An octal number field, padded with leading spaces or zeros and ended by NUL or space (writers differ). */
function parseOctal(h: Buffer, offset: number, length: number): number {
  const digits = /^[ \0]*([0-7]*)/.exec(h.toString('latin1', offset, offset + length))![1];
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** The size field: octal, or big-endian base-256 when its top bit is set (files over 8 GB). */
function parseSize(h: Buffer): number {
  if (!(h[124] & 0x80)) return parseOctal(h, 124, 12);
  let size = h[124] & 0x7f;
  for (let i = 125; i < 136; i++) size = size * 256 + h[i];
  return size;
}

/** name (0..99), prefixed by the ustar prefix field (345..499) when present. */
function headerPath(h: Buffer): string {
  const field = (from: number, len: number) => h.toString('utf8', from, from + len).replace(/\0.*$/s, '');
  const name = field(0, 100);
  const prefix = h.toString('latin1', 257, 262) === 'ustar' ? field(345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** The `path` record of a pax extended header ("<len> path=<value>\n" records), or null. */
function paxPath(body: string): string | null {
  const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body);
  return match ? match[1] : null;
}
