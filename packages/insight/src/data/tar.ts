// Extracting picked files from a tar archive (gzip-compressed or not) with npm's `tar` (node-tar) parser.
// Only the regular files the caller picks are written, flat into one folder under names the caller gives,
// so entry paths are never used as file-system paths (no traversal risk). node-tar's failures (zlib errors,
// bad header checksums, truncation) become ArchiveErrors whose message says what was wrong in plain words.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { Parser, type ReadEntry } from 'tar';

import { InsightError, ruleMessage } from '../errors';

/** Why an archive could not be read (INSIGHT_E_DATA); `problem` says what was wrong in plain words. */
export class ArchiveError extends InsightError {
  readonly problem: string;
  constructor(problem: string) {
    super('INSIGHT_E_DATA', ruleMessage('An archive must be a complete, uncorrupted tar or tar.gz file.', { problem }, 'Download or copy it again.'));
    this.name = 'ArchiveError';
    this.problem = problem;
  }
}

export interface ExtractResult {
  /** sha256 of the archive file as stored (hex). */
  sha256: string;
  /** Entry paths (inside the archive) of the files written. */
  extracted: string[];
}

/** node-tar's names for regular files ('0', '\0' and '7' in the header's type byte). */
const REGULAR_FILE = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Streams `archive` (tar or tar.gz) and writes every regular file for which `pick(entryPath)` returns a name
 * to `destDir/<name>`. Throws ArchiveError on gzip errors, bad header checksums and truncation.
 * Example: extractTar('x.tar.gz', dir, (p) => path.basename(p) === 'a.bin' ? 'a.bin' : null).
 */
export async function extractTar(archive: string, destDir: string, pick: (entryPath: string) => string | null): Promise<ExtractResult> {
  const hash = createHash('sha256');
  const extracted: string[] = [];
  const writes: Promise<void>[] = [];
  const writing = new Set<WriteStream>();
  // node-tar goes on parsing after an error (even in strict mode): nothing more is written after the first one.
  let failedAfter: number | null = null;
  const parser = new Parser({
    strict: true, // every warning (bad checksum, truncation) is an error
    onReadEntry: (entry: ReadEntry) => {
      const target = failedAfter === null && REGULAR_FILE.has(entry.type) ? pick(entry.path) : null;
      if (target === null) {
        entry.resume();
        return;
      }
      extracted.push(entry.path);
      const file = createWriteStream(path.join(destDir, target));
      writing.add(file);
      // Piping applies backpressure: the parser stops taking input while a file write is behind.
      writes.push(pipeline(entry, file).finally(() => writing.delete(file)));
    },
  });
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('error', (error) => {
      failedAfter ??= extracted.length;
      reject(error);
    });
    parser.on('end', resolve);
  });
  parsed.catch(() => undefined); // awaited below; an early failure must not be an unhandled rejection
  try {
    for await (const chunk of createReadStream(archive) as AsyncIterable<Buffer>) {
      if (failedAfter !== null) break;
      hash.update(chunk);
      if (!parser.write(chunk)) await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), parsed]);
    }
    parser.end();
    await parsed;
    await Promise.all(writes);
  } catch (err) {
    // Close every output file before the caller removes the folder.
    for (const file of writing) file.destroy();
    await Promise.allSettled(writes);
    throw archiveError(err, failedAfter ?? extracted.length);
  }
  return { sha256: hash.digest('hex'), extracted };
}

/** node-tar's error (tarCode + zlib code) as an ArchiveError; anything else (e.g. a write failure) unchanged. */
function archiveError(err: unknown, extractedCount: number): unknown {
  const e = err as NodeJS.ErrnoException & { tarCode?: string; entry?: { path?: string } };
  if (e.code?.startsWith('Z_') || e.code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    const detail = e.message.replace(/^zlib: /, '');
    return new ArchiveError(`its gzip stream is ${e.code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt'} (${detail})`);
  }
  if (e.tarCode === 'TAR_ENTRY_INVALID' && /checksum failure/.test(e.message)) {
    return new ArchiveError(`a tar header checksum does not match (after ${extractedCount} extracted files); the archive is corrupt`);
  }
  if (e.tarCode === 'TAR_BAD_ARCHIVE' && /^TAR_BAD_ARCHIVE: Truncated/.test(e.message)) {
    return new ArchiveError(`it is truncated (the data of ${e.entry?.path ?? 'an entry'} ends early)`);
  }
  // Other header errors, "Unrecognized archive format" (empty or not tar), an aborted parse.
  if (e.tarCode !== undefined) return new ArchiveError(`it is not a readable tar archive (${e.message})`);
  return err;
}
