// Reading a model directory's files without trusting them (a served repository is written by others): each file
// must resolve (realpath) inside the model directory, which must itself resolve inside the root it is read for (the
// serving repository); it must be a regular file (a FIFO, a device such as /dev/zero, a socket or a folder is
// refused before a byte is read, and the open is non-blocking so a FIFO never blocks it); its size must be what the
// caller expects (the bytes a weights manifest declares, or under a cap), and one load reads at most `maxBytes` in all.
// Reads are asynchronous (fs.promises, off the event loop) and share one deadline. Errors name the file relative to
// `shownFrom` (the repository root when serving), never by an absolute path, and carry a `problem` for metrics.
import * as fs from 'node:fs';
import { constants, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';

import { InsightError, ruleMessage } from '../errors';

/** Why a model file was refused: the `reason` label of insight_model_load_failures_total. */
export type ModelFileProblem = 'not_regular_file' | 'outside_root' | 'size_mismatch' | 'too_large' | 'timeout' | 'missing' | 'unreadable';

/** A model file refused by the checks of ModelFileReader (code INSIGHT_E_MODEL). */
export class ModelFileError extends InsightError {
  constructor(readonly problem: ModelFileProblem, rule: string, received: Record<string, unknown>, fix: string) {
    super('INSIGHT_E_MODEL', ruleMessage(rule, received, fix));
  }
}

/** model.json (topology, manifest, metadata) and other JSON beside the weights: far below this. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** All the bytes one load may read (a protobuf .onnx file cannot pass 2 GiB either). */
const MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024;
const DEFAULT_READ_TIMEOUT_MS = 60_000;

export interface ModelReadOptions {
  /** The model directory must resolve inside this folder (the serving repository); default: the directory itself. */
  root?: string;
  /** Folder that error messages name files relative to; default: none (paths as given). */
  shownFrom?: string;
  /** All reads of one load must finish within this (--load-timeout-ms). */
  timeoutMs?: number;
  /** Bytes one load may read in all. */
  maxBytes?: number;
}

/**
 * What size a file must have: exactly `exact` bytes, or at most `max` (`declared`: a size its manifest declares, so
 * more is a size_mismatch; else a cap, so more is too_large). `what` names the rule in messages.
 */
export type SizeRule = { exact: number; what: string } | { max: number; what: string; declared?: boolean };

/**
 * A small text file (a run's config.json while a server scans) read synchronously, or null unless it is a regular
 * file of at most `maxBytes`: opened non-blocking and checked with fstat before a byte is read, so a FIFO or a device
 * put in its place neither blocks nor floods the caller.
 */
export function readSmallFileSync(file: string, maxBytes: number): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile() || stats.size > maxBytes) return null;
    const bytes = Buffer.alloc(stats.size);
    return fs.readSync(fd, bytes, 0, bytes.length, 0) === bytes.length ? bytes.toString('utf8') : null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

const KINDS: [keyof Stats, string][] = [['isFIFO', 'fifo'], ['isCharacterDevice', 'character device'], ['isBlockDevice', 'block device'],
  ['isSocket', 'socket'], ['isDirectory', 'directory'], ['isSymbolicLink', 'symbolic link']];

/** 'fifo', 'character device', ... for a stat that is not a regular file. */
function kindOf(stats: Stats): string {
  return KINDS.find(([test]) => (stats[test] as () => boolean).call(stats))?.[1] ?? 'unknown';
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  // '..' or '../x' leaves parent; a name that only starts with dots ('..weights.bin') does not.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Where an open file really is (Linux: /proc/self/fd), or null where the system cannot say. The realpath check
 * runs before the open; a folder on the way swapped for a link in between is caught here, on the opened file.
 */
async function openedPath(fd: number): Promise<string | null> {
  try {
    return await fsp.readlink(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * The files of one model directory, for one load: every read shares the deadline and the byte budget.
 * Example: `const r = new ModelFileReader(dir, { root: repo, shownFrom: repo });
 * const json = await r.read('model.json', { max: MAX_JSON_BYTES, what: 'model.json' });`
 */
export class ModelFileReader {
  private readonly deadline: number;
  private readonly timeoutMs: number;
  private budget: number;
  private realDir: Promise<string> | null = null;

  constructor(readonly dir: string, private readonly options: ModelReadOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.deadline = Date.now() + this.timeoutMs;
    this.budget = options.maxBytes ?? MAX_MODEL_BYTES;
  }

  /** Bytes this load may still read. */
  get remainingBytes(): number {
    return this.budget;
  }

  /** `file` as error messages name it: relative to shownFrom when set. */
  shown(file: string): string {
    return this.options.shownFrom === undefined ? file : path.relative(this.options.shownFrom, path.resolve(file)) || '.';
  }

  /** Throws too_large when a load declares more bytes than it may read (checked before reading them). */
  checkBudget(bytes: number, what: string): void {
    if (bytes > this.budget) {
      throw new ModelFileError('too_large', 'A model load reads at most its byte budget (2 GiB in all).',
        { file: what, bytes, budget: this.budget }, 'Serve a smaller model, or split it into fewer weights.');
    }
  }

  /** The bytes of `relative` (a path inside the model directory), checked as the header says. */
  async read(relative: string, size: SizeRule): Promise<Buffer<ArrayBuffer>> {
    const file = path.resolve(this.dir, relative);
    const shown = this.shown(path.join(this.dir, relative));
    const dir = await this.checkedDir();
    if (path.isAbsolute(relative) || !inside(path.resolve(this.dir), file)) {
      throw new ModelFileError('outside_root', 'A model file path must stay inside its model directory (no absolute paths, no "..").',
        { file: relative, modelDir: this.shown(this.dir) }, 'List weight files by their names inside the model directory, as Insight writes them.');
    }
    const real = await this.step(fsp.realpath(file), shown);
    if (!inside(dir, real)) {
      throw new ModelFileError('outside_root', 'A model file must resolve inside its model directory (a symlink may not lead out of it).',
        { file: shown }, 'Copy the file into the model directory instead of linking to it.');
    }
    const stats = await this.step(fsp.stat(real), shown);
    this.checkRegular(stats, shown);
    this.checkSize(stats.size, size, shown);
    // O_NONBLOCK: opening a FIFO (swapped in after the stat) returns at once instead of waiting for a writer.
    const opening = fsp.open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    const handle = await this.step(opening, shown).catch((error: unknown) => {
      void opening.then((late) => late.close(), () => undefined); // opened after the deadline: closed, not leaked
      throw error;
    });
    let pending = true; // an operation on the handle may still run (cleared once each returns)
    try {
      const opened = await this.step(handle.stat(), shown);
      pending = false;
      this.checkRegular(opened, shown);
      const where = await this.step(openedPath(handle.fd), shown);
      if (where !== null && !inside(dir, where)) {
        throw new ModelFileError('outside_root', 'A model file must resolve inside its model directory (a symlink may not lead out of it).',
          { file: shown }, 'Copy the file into the model directory instead of linking to it.');
      }
      if (opened.ino !== stats.ino || opened.dev !== stats.dev) {
        throw new ModelFileError('unreadable', 'A model file must not change while it is read.', { file: shown }, 'Write model versions atomically (copy, then rename).');
      }
      // One byte more than expected: a file that grew since its stat is refused instead of read without end. Its own
      // ArrayBuffer (never the shared pool): decoders view it as Float32Array from offset 0.
      const bytes = Buffer.allocUnsafeSlow(stats.size + 1);
      let filled = 0;
      while (filled < bytes.length) {
        pending = true;
        const { bytesRead } = await this.step(handle.read(bytes, filled, bytes.length - filled, filled), shown);
        pending = false;
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      this.checkSize(filled, size, shown);
      if (filled !== stats.size) {
        throw new ModelFileError('size_mismatch', 'A model file must not change while it is read.',
          { file: shown, bytes: stats.size, read: filled }, 'Write model versions atomically (copy, then rename).');
      }
      this.budget -= filled;
      return bytes.subarray(0, filled);
    } finally {
      // A read stuck past the deadline keeps the handle busy: close it when it returns, without waiting here.
      if (pending) void handle.close().catch(() => undefined);
      else await handle.close().catch(() => undefined);
    }
  }

  /** The model directory's realpath, checked to lie inside the root's (once per load). */
  private checkedDir(): Promise<string> {
    this.realDir ??= (async () => {
      const shown = this.shown(this.dir);
      const [dir, root] = await Promise.all([this.step(fsp.realpath(this.dir), shown),
        this.step(fsp.realpath(this.options.root ?? this.dir), this.shown(this.options.root ?? this.dir))]);
      if (!inside(root, dir)) {
        throw new ModelFileError('outside_root', 'A served model version must lie inside the model repository (a version folder may not link out of it).',
          { version: shown }, 'Copy the model directory into the repository instead of linking to it.');
      }
      return dir;
    })();
    return this.realDir;
  }

  private checkRegular(stats: Stats, shown: string): void {
    if (!stats.isFile()) {
      throw new ModelFileError('not_regular_file', 'A model file must be a regular file (not a FIFO, device, socket or directory).',
        { file: shown, kind: kindOf(stats) }, 'Replace it with the real file (e.g. copy the model directory again).');
    }
  }

  private checkSize(bytes: number, size: SizeRule, shown: string): void {
    if ('exact' in size && bytes !== size.exact) {
      throw new ModelFileError('size_mismatch', `A model file must hold exactly the bytes ${size.what} declares.`,
        { file: shown, bytes, declared: size.exact }, 'Copy the whole model directory again; its weights and model.json must come from one save.');
    }
    if ('max' in size && bytes > size.max) {
      throw size.declared === true
        ? new ModelFileError('size_mismatch', `A model file may hold no more than the bytes ${size.what} declares.`,
          { file: shown, bytes, declared: size.max }, 'Copy the whole model directory again; its weights and model.json must come from one save.')
        : new ModelFileError('too_large', `A model file may hold at most ${size.max} bytes (${size.what}).`,
          { file: shown, bytes, max: size.max }, 'Check the file: it is far larger than a model file of its kind.');
    }
    this.checkBudget(bytes, shown);
  }

  /** `promise` within the load's deadline; file-system errors become ModelFileErrors naming `shown`. */
  private async step<T>(promise: Promise<T>, shown: string): Promise<T> {
    const late = () => new ModelFileError('timeout', 'Reading a model version\'s files must finish within --load-timeout-ms.',
      { file: shown, timeoutMs: this.timeoutMs }, 'Check the storage the repository is on, or raise --load-timeout-ms.');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(late()), Math.max(0, this.deadline - Date.now()));
    });
    try {
      // Past the deadline already (a slow earlier step): fail now, whichever of the two would settle first.
      if (Date.now() >= this.deadline) {
        promise.catch(() => undefined);
        throw late();
      }
      return await Promise.race([promise, timeout]);
    } catch (error) {
      if (error instanceof ModelFileError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new ModelFileError('missing', 'A model directory must hold every file it lists (each weight file listed in model.json must exist).', { file: shown },
          'Copy the whole model directory, not only model.json.');
      }
      if (code === 'ELOOP') {
        throw new ModelFileError('not_regular_file', 'A model file must be a regular file (not a symbolic link loop).', { file: shown },
          'Replace it with the real file.');
      }
      throw new ModelFileError('unreadable', 'A model file must be readable.', { file: shown, error: code ?? (error as Error).message },
        'Check its permissions and the storage it is on.');
    } finally {
      clearTimeout(timer);
    }
  }
}
