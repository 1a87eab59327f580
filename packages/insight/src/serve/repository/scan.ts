// Reading a model repository from disk: <root>/<model>/<version>/ with model.json inside. Hidden entries
// (the .insight-tmp-* directories of atomic writes, editors' files) and names that are not models or positive
// integer versions are skipped. Each version gets a fingerprint of its files (name, size, mtime), which tells
// a version being copied (changing) from a complete one, and a rewritten version from the loaded one.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MODEL_JSON } from '../../run/model_io';

/** Model names are path segments of URLs: letters, digits, '.', '_', '-'. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface DiskVersion {
  version: number;
  dir: string;
  /** Changes whenever a file in the version directory changes. */
  fingerprint: string;
}

/** model name → its versions on disk, highest first. */
export type DiskState = Map<string, DiskVersion[]>;

/** Scans `root`; a missing or unreadable root reads as empty (the caller checks it exists at startup). */
export function scanRepository(root: string): DiskState {
  const state: DiskState = new Map();
  for (const name of listDirs(root)) {
    if (!MODEL_NAME.test(name)) continue;
    const versions: DiskVersion[] = [];
    for (const v of listDirs(path.join(root, name))) {
      if (!/^[1-9]\d{0,15}$/.test(v)) continue;
      const dir = path.join(root, name, v);
      const fingerprint = fingerprintOf(dir);
      if (fingerprint !== null) versions.push({ version: Number(v), dir, fingerprint });
    }
    state.set(name, versions.sort((a, b) => b.version - a.version));
  }
  return state;
}

function listDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isDir(path.join(dir, e.name)))))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** name:size:mtime of every file in `dir`, or null when it has no model.json (yet). */
function fingerprintOf(dir: string): string | null {
  try {
    const names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    if (!names.includes(MODEL_JSON)) return null;
    return names.map((n) => {
      const s = fs.statSync(path.join(dir, n));
      return `${n}:${s.size}:${s.mtimeMs}`;
    }).join('|');
  } catch {
    return null;
  }
}
