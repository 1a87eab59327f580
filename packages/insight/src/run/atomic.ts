// Crash-safe writes. A file is written to a temporary name in its own directory, flushed to disk (fsync),
// then renamed over the target, and the directory entry is flushed too: readers see the old file or the new
// one, never a torn one. A directory (a checkpoint, a model) is built the same way under a temporary name and
// swapped in, so a directory with the final name is always complete.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Prefix of every temporary entry this module creates; `cleanTemporaries` removes leftovers of killed writers. */
export const TEMP_PREFIX = '.insight-tmp-';
/** Prefix of a directory that was replaced but not yet deleted (see `resolveCompleteDir`). */
export const REPLACED_PREFIX = '.insight-old-';

function tempName(dir: string, base: string): string {
  return path.join(dir, `${TEMP_PREFIX}${base}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function fsyncPath(target: string): void {
  const fd = fs.openSync(target, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAndSync(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically (temp file in the same directory + fsync + rename + directory fsync). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = tempName(dir, path.basename(file));
  try {
    writeAndSync(temp, data);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncPath(dir);
}

/**
 * Makes `dir` hold exactly `files` (name → contents), atomically: the files are written and flushed in a
 * temporary sibling directory, which is then renamed to `dir`. An existing `dir` is first renamed aside and
 * deleted after the swap; if the process dies between the two renames, `resolveCompleteDir` finds the old one.
 */
export function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): void {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  fs.mkdirSync(parent, { recursive: true });
  cleanTemporaries(parent, base);
  const temp = tempName(parent, base);
  fs.mkdirSync(temp);
  try {
    for (const [name, data] of Object.entries(files)) writeAndSync(path.join(temp, name), data);
    fsyncPath(temp);
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  if (fs.existsSync(dir)) fs.renameSync(dir, path.join(parent, `${REPLACED_PREFIX}${base}-${randomBytes(4).toString('hex')}`));
  fs.renameSync(temp, dir);
  fsyncPath(parent);
  // Only now that the new directory is in place may the replaced ones (this one's, or a killed writer's) go.
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith(`${REPLACED_PREFIX}${base}-`)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

/**
 * The complete directory to read for `dir`: `dir` itself, or — when a writer died between moving the old
 * directory aside and moving the new one in — the old one. Null when neither exists.
 */
export function resolveCompleteDir(dir: string): string | null {
  if (fs.existsSync(dir)) return dir;
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) return null;
  const prefix = `${REPLACED_PREFIX}${path.basename(dir)}-`;
  const candidates = fs.readdirSync(parent).filter((name) => name.startsWith(prefix));
  return candidates.length > 0 ? path.join(parent, candidates[0]) : null;
}

/** Deletes temporaries left in `parent` by killed writers of `base` (files and directories). */
export function cleanTemporaries(parent: string, base: string): void {
  if (!fs.existsSync(parent)) return;
  const prefix = `${TEMP_PREFIX}${base}-`;
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}
