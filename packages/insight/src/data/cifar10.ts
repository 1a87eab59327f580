// CIFAR-10 from the official binary archive (cifar-10-binary.tar.gz) or its extracted cifar-10-batches-bin
// folder. Lookup order: the explicit `path`; else the cache ($INSIGHT_HOME/datasets, default
// ~/.insight/datasets) holding cifar-10-batches-bin/ or cifar-10-binary.tar.gz; else a download from
// CIFAR10_URL (sha256-checked, cached atomically). Archives are extracted once, atomically, into the cache;
// later loads read the .bin files directly (50,000 images in well under a second).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { datasetsCacheDir } from './cache_dir';
import {
  CIFAR10_FILES, decodeRecords, findBadLabel, IMAGE_BYTES, META_FILE, parseClassNames, RECORD_BYTES, SIDE,
  TEST_FILE, TRAIN_FILES,
} from './cifar10_records';
import { sharedBytes, type ImageDataset } from './dataset';
import { downloadFile, DownloadError } from './download';
import { ruleError } from '../errors';
import { ArchiveError, extractTar } from './tar';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_SHA256 = 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd';
const ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
const FOLDER_NAME = 'cifar-10-batches-bin';
/** Written into every folder Insight extracted: which archive it came from. */
const MARKER = '.insight-source.json';

export interface Cifar10Options {
  /** The archive (.tar.gz or .tar) or a folder (cifar-10-batches-bin, or a folder containing it). */
  path?: string;
  /** Default 'train' (data_batch_1..5, 50,000 images); 'test' is test_batch.bin (10,000). */
  split?: 'train' | 'test';
  /** Default $INSIGHT_HOME/datasets, else ~/.insight/datasets. */
  cacheDir?: string;
  /** Download when nothing is found (default true). */
  download?: boolean;
  /** Expected archive sha256. Checked for downloads (default: the official archive's) and, when given, for
   *  archives found locally; an explicit path is not checked against the official value. */
  sha256?: string;
  /** Download source (default CIFAR10_URL), e.g. a mirror. */
  url?: string;
  /** Download progress in bytes. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** A located cifar-10-batches-bin folder and how to talk about it in errors. */
interface Located {
  dir: string;
  /** What the user gave or what was found, named in error messages. */
  source: string;
  /** The fix appended to errors about corrupt files. */
  fix: string;
}

/**
 * Loads one CIFAR-10 split: images [count, 32, 32, 3] uint8 RGB (HWC), labels [count], 10 class names.
 * Example: const train = await loadCifar10({ path: 'cifar-10-binary.tar.gz' });  // 50,000 images
 */
export async function loadCifar10(opts: Cifar10Options = {}): Promise<ImageDataset> {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw ruleError('INSIGHT_E_CONFIG', "split must be 'train' or 'test'.", { split }, "Pass split: 'train' (50,000 images) or 'test' (10,000).");
  }
  const cacheDir = path.resolve(opts.cacheDir ?? datasetsCacheDir());
  const located = opts.path !== undefined ? await locateExplicit(opts.path, cacheDir, opts.sha256) : await locateCached(cacheDir, opts);
  return readSplit(located, split);
}

/** The folder for an explicit path: used as is when it is a folder, extracted into the cache when an archive. */
async function locateExplicit(given: string, cacheDir: string, sha256: string | undefined): Promise<Located> {
  const full = path.resolve(given);
  const info = await stat(full).catch(() => null);
  if (!info) {
    throw ruleError('INSIGHT_E_DATA', 'The CIFAR-10 path does not exist.', { path: given },
      `Pass the ${ARCHIVE_NAME} archive or its extracted ${FOLDER_NAME} folder, or omit path to use the cache (${cacheDir}).`);
  }
  if (info.isFile()) {
    const key = createHash('sha1').update(await realpath(full)).digest('hex').slice(0, 12);
    const base = path.basename(full).replace(/\.(tar\.gz|tgz|tar)$/, '');
    return extractOnce(full, path.join(cacheDir, 'cifar-10-extracted', `${base}-${key}`), sha256);
  }
  const nested = path.join(full, FOLDER_NAME);
  const dir = (await exists(path.join(full, META_FILE))) || !(await exists(nested)) ? full : nested;
  const located = { dir, source: dir, fix: `Replace it with a fresh copy extracted from ${ARCHIVE_NAME} (${CIFAR10_URL}).` };
  if (sha256) await checkRecordedSha256(located, sha256);
  return located;
}

/** The folder from the cache, extracting the cached archive or downloading it first when needed. */
async function locateCached(cacheDir: string, opts: Cifar10Options): Promise<Located> {
  const folder = path.join(cacheDir, FOLDER_NAME);
  const archive = path.join(cacheDir, ARCHIVE_NAME);
  if (await exists(path.join(folder, META_FILE))) {
    const located = { dir: folder, source: folder, fix: `Delete ${folder} so it is extracted or downloaded again.` };
    if (opts.sha256) await checkRecordedSha256(located, opts.sha256);
    return located;
  }
  if (!(await exists(archive))) {
    const url = opts.url ?? CIFAR10_URL;
    const placeFix = `On a machine with internet access download ${url} and put it at ${archive} `
      + `(or its extracted folder at ${folder}), or pass path: '<archive or folder>' to loadCifar10, `
      + 'or set INSIGHT_HOME to a folder whose datasets/ subfolder holds it.';
    if (opts.download === false) {
      throw ruleError('INSIGHT_E_DATA', 'CIFAR-10 is not in the cache and downloading is turned off.', { download: false, cacheDir }, placeFix);
    }
    try {
      await downloadFile(url, archive, { sha256: opts.sha256 ?? CIFAR10_SHA256, onProgress: opts.onProgress });
    } catch (err) {
      if (!(err instanceof DownloadError)) throw err;
      throw ruleError('INSIGHT_E_DATA', `CIFAR-10 is not in the cache and could not be downloaded: ${err.message}.`, { url, cacheDir }, placeFix);
    }
  }
  return extractOnce(archive, folder, opts.sha256);
}

/**
 * Extracts the CIFAR-10 files of `archive` into `dest` unless `dest` already holds this archive's files
 * (same size and mtime, per its marker). Extraction goes to a temporary folder that is checked completely
 * (sizes, labels, class names) before it is renamed to `dest`, so `dest` is always whole.
 */
async function extractOnce(archive: string, dest: string, sha256: string | undefined): Promise<Located> {
  const located = { dir: dest, source: archive, fix: `Delete ${dest} so it is extracted again from ${archive}.` };
  const info = await stat(archive);
  const marker = await readMarker(dest);
  if (marker && marker.size === info.size && marker.mtimeMs === info.mtimeMs) {
    if (sha256) await checkRecordedSha256(located, sha256);
    return located;
  }
  const badArchiveFix = `Download it again from ${CIFAR10_URL} (sha256 ${CIFAR10_SHA256}) or pass its extracted ${FOLDER_NAME} folder.`;
  const temp = `${dest}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(temp, { recursive: true });
  try {
    let result;
    try {
      result = await extractTar(archive, temp, (entry) => {
        const name = path.posix.basename(entry);
        return CIFAR10_FILES.includes(name) ? name : null;
      });
    } catch (err) {
      if (!(err instanceof ArchiveError)) throw err;
      throw ruleError('INSIGHT_E_DATA', `${archive} is not a readable CIFAR-10 archive: ${err.problem}.`, { path: archive }, badArchiveFix);
    }
    if (!result.extracted.some((name) => name.endsWith('.bin'))) {
      throw ruleError('INSIGHT_E_DATA', `${archive} holds no CIFAR-10 batch files (expected ${FOLDER_NAME}/data_batch_1.bin ... ${TEST_FILE}).`,
        { path: archive }, `Pass the binary version of CIFAR-10 (${ARCHIVE_NAME}, not the python or matlab one).`);
    }
    if (sha256 && result.sha256 !== sha256.toLowerCase()) {
      throw ruleError('INSIGHT_E_DATA', 'The archive does not have the expected sha256.', { path: archive, sha256: result.sha256, expected: sha256 },
        'Download it again, or pass the sha256 of the file you trust.');
    }
    await checkFolder({ dir: temp, source: archive, fix: badArchiveFix });
    await writeFile(path.join(temp, MARKER), JSON.stringify({ archive, size: info.size, mtimeMs: info.mtimeMs, sha256: result.sha256 }));
    await rm(dest, { recursive: true, force: true });
    await rename(temp, dest).catch(async (err: NodeJS.ErrnoException) => {
      // Another process published the same extraction first; theirs is as good as ours.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return located;
}

/** Checks every batch file present in an extracted folder (sizes, labels) and the class names. */
async function checkFolder(located: Located): Promise<void> {
  const classNames = await readClassNames(located);
  for (const file of [...TRAIN_FILES, TEST_FILE]) {
    const full = path.join(located.dir, file);
    if (!(await exists(full))) continue;
    await checkSize(located, file);
    checkLabels(located, file, await readFile(full), classNames.length);
  }
}

/** Reads split `split` of a located folder into a dataset (all or nothing). */
async function readSplit(located: Located, split: 'train' | 'test'): Promise<ImageDataset> {
  const files = split === 'train' ? TRAIN_FILES : [TEST_FILE];
  for (const file of files) {
    if (await exists(path.join(located.dir, file))) continue;
    if (split === 'test' && (await exists(path.join(located.dir, TRAIN_FILES[0])))) {
      throw ruleError('INSIGHT_E_DATA', `${TEST_FILE} is missing from ${located.source} (the training split alone was given).`, { split },
        `Pass the full official archive (${CIFAR10_URL}) or a folder that contains ${TEST_FILE}. If the test split is `
        + 'withheld (as in the shared development data), validate on a split of the training data instead '
        + '(splitTrainValidation, e.g. the last 5,000 records).');
    }
    throw ruleError('INSIGHT_E_DATA', `${file} is missing from ${located.source}: CIFAR-10's ${split} split needs ${files.join(', ')}.`,
      { split, path: located.source }, located.fix);
  }
  const classNames = await readClassNames(located);
  const sizes = await Promise.all(files.map((file) => checkSize(located, file)));
  const count = sizes.reduce((sum, size) => sum + size / RECORD_BYTES, 0);
  const images = sharedBytes(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  const reads = files.map((file) => readFile(path.join(located.dir, file)));
  reads.forEach((read) => read.catch(() => undefined)); // awaited in order below
  let first = 0;
  for (let i = 0; i < files.length; i++) {
    const buf = await reads[i];
    if (buf.length !== sizes[i]) {
      throw ruleError('INSIGHT_E_DATA', `${files[i]} in ${located.source} changed while it was read.`, { file: files[i] }, 'Load again once it is complete.');
    }
    checkLabels(located, files[i], buf, classNames.length);
    decodeRecords(buf, images, labels, first);
    first += buf.length / RECORD_BYTES;
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3, classNames };
}

async function readClassNames(located: Located): Promise<string[]> {
  const text = await readFile(path.join(located.dir, META_FILE), 'utf8').catch(() => null);
  const names = text === null ? [] : parseClassNames(text);
  if (names.length < 2) {
    throw ruleError('INSIGHT_E_DATA', `${META_FILE} in ${located.source} must list the class names, one a line.`,
      { file: META_FILE, classNames: text === null ? 'missing' : names }, located.fix);
  }
  return names;
}

/** The file's size, after checking it is a positive multiple of the record size. */
async function checkSize(located: Located, file: string): Promise<number> {
  const { size } = await stat(path.join(located.dir, file));
  if (size === 0 || size % RECORD_BYTES !== 0) {
    throw ruleError('INSIGHT_E_DATA', `${file} in ${located.source} is truncated or corrupt: a batch file holds whole ${RECORD_BYTES}-byte records.`,
      { file, size, records: +(size / RECORD_BYTES).toFixed(3) }, located.fix);
  }
  return size;
}

function checkLabels(located: Located, file: string, buf: Uint8Array, classCount: number): void {
  const bad = findBadLabel(buf, classCount);
  if (bad >= 0) {
    throw ruleError('INSIGHT_E_DATA', `${file} in ${located.source} is corrupt: every label byte must be in [0, ${classCount}).`,
      { file, record: bad, label: buf[bad * RECORD_BYTES] }, located.fix);
  }
}

/** Compares `sha256` with the archive hash recorded when the folder was extracted. */
async function checkRecordedSha256(located: Located, sha256: string): Promise<void> {
  const marker = await readMarker(located.dir);
  if (!marker) {
    throw ruleError('INSIGHT_E_CONFIG', 'sha256 can only be checked for an archive; this folder was not extracted by Insight.',
      { path: located.dir, sha256 }, `Pass the ${ARCHIVE_NAME} archive as path, or omit sha256.`);
  }
  if (marker.sha256 !== sha256.toLowerCase()) {
    throw ruleError('INSIGHT_E_DATA', 'The archive does not have the expected sha256.', { path: marker.archive, sha256: marker.sha256, expected: sha256 },
      'Download it again, or pass the sha256 of the file you trust.');
  }
}

interface Marker { archive: string; size: number; mtimeMs: number; sha256: string }

async function readMarker(dir: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return null;
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
