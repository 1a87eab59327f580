// Reading a model repository from disk: <root>/<model>/<version>/ with model.json (tfjs) or model.onnx inside.
// Hidden entries (the .insight-tmp-* directories of atomic writes, editors' files) and names that are not models or
// positive integer versions are skipped. Each version gets a fingerprint of its files (name, size, mtime), which tells
// a version being copied (changing) from a complete one, and a rewritten version from the loaded one.
// `--models` may also name one model instead of a repository (detectLayout): a model directory (model.json or
// model.onnx inside) is served as version 1 under its folder's name, and a run directory as version 1 of its model/
// under the run's name (`--name`) or id — polled until training writes model/.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MODEL_JSON, MODEL_ONNX } from '../../run/model_io';
import { RunDir } from '../../run/run_dir';
import { readSmallFileSync } from '../../run/safe_files';

/** Model names are path segments of URLs: letters, digits, '.', '_', '-'. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Version folders: positive integers. */
const VERSION = /^[1-9]\d{0,15}$/;

export interface DiskVersion {
  version: number;
  dir: string;
  /** Changes whenever a file in the version directory changes. */
  fingerprint: string;
}

/** model name → its versions on disk, highest first. */
export type DiskState = Map<string, DiskVersion[]>;

/** What `--models` names: a repository of <model>/<version>/ directories, one model directory, or one run directory. */
export type RepositoryLayout =
  | { kind: 'repository'; root: string }
  | { kind: 'model' | 'run'; root: string; name: string; version: number; dir: string };

/** Whether `dir` holds a model: model.json (tfjs) or model.onnx (served through ONNX Runtime). */
function hasModel(dir: string): boolean {
  return fs.existsSync(path.join(dir, MODEL_JSON)) || isOnnxVersion(dir);
}

/** Whether the version in `dir` is served through ONNX Runtime: it holds model.onnx (which wins over a model.json beside it). */
export function isOnnxVersion(dir: string): boolean {
  return fs.existsSync(path.join(dir, MODEL_ONNX));
}

/** `text` as a model name: characters outside [A-Za-z0-9._-] become '-', and it starts with a letter or digit. */
export function modelNameOf(text: string): string {
  const name = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return MODEL_NAME.test(name) ? name : 'model';
}

/** A run's name (its config's `name`, set with --name) or else its id, as a model name. Read on every poll: a config.json that is no small regular file reads as none. */
function runModelName(run: RunDir): string {
  try {
    const config = JSON.parse(readSmallFileSync(run.configJson, 1024 * 1024) ?? 'null') as { name?: unknown } | null;
    if (typeof config?.name === 'string' && config.name.trim() !== '') return modelNameOf(config.name.trim());
  } catch {
    // no readable config: the id
  }
  return modelNameOf(run.id);
}

/**
 * How `root` is laid out: model.json inside → one model, version 1 named after the folder (a run's model/: after the
 * run; a repository's <model>/<version>/: that model and version); run.json and config.json inside → one run (its
 * model/, version 1); anything else → a repository.
 */
export function detectLayout(root: string): RepositoryLayout {
  if (hasModel(root)) {
    const resolved = path.resolve(root);
    const folder = path.basename(resolved);
    const parent = path.dirname(resolved);
    const run = RunDir.tryOpen(parent);
    if (run !== null && path.resolve(run.modelDir) === resolved) return { kind: 'model', root, name: runModelName(run), version: 1, dir: root };
    if (VERSION.test(folder) && MODEL_NAME.test(path.basename(parent))) {
      return { kind: 'model', root, name: path.basename(parent), version: Number(folder), dir: root };
    }
    return { kind: 'model', root, name: modelNameOf(folder), version: 1, dir: root };
  }
  const run = RunDir.tryOpen(root);
  if (run !== null) return { kind: 'run', root, name: runModelName(run), version: 1, dir: run.modelDir };
  return { kind: 'repository', root };
}

/** Scans `root`; a missing or unreadable root reads as empty (the caller checks it exists at startup). */
export function scanRepository(root: string): DiskState {
  const layout = detectLayout(root);
  if (layout.kind !== 'repository') {
    // One model, one version; its entry is absent until model.json (or model.onnx) exists (a run still training).
    const fingerprint = fingerprintOf(layout.dir);
    return new Map(fingerprint === null ? [] : [[layout.name, [{ version: layout.version, dir: layout.dir, fingerprint }]]]);
  }
  const state: DiskState = new Map();
  for (const name of listDirs(root)) {
    if (!MODEL_NAME.test(name)) continue;
    const versions: DiskVersion[] = [];
    for (const v of listDirs(path.join(root, name))) {
      if (!VERSION.test(v)) continue;
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

/** name:size:mtime of every file in `dir`, or null when it has no model.json or model.onnx (yet). */
function fingerprintOf(dir: string): string | null {
  try {
    const names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    if (!names.includes(MODEL_JSON) && !names.includes(MODEL_ONNX)) return null;
    return names.map((n) => {
      const s = fs.statSync(path.join(dir, n));
      return `${n}:${s.size}:${s.mtimeMs}`;
    }).join('|');
  } catch {
    return null;
  }
}
