// Image-folder datasets laid out as root/<class>/<image> (Keras's image_dataset_from_directory layout).
// Every format sharp reads (JPEG, PNG, WebP, GIF, TIFF, AVIF, ...) is decoded, auto-oriented from EXIF,
// converted to sRGB (grayscale expanded, CMYK converted), flattened onto white when it has alpha, and resized
// to height×width (stretched, as Keras does by default). Files that cannot be decoded are skipped and
// reported, never fatal.
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { sharedBytes, type ImageDataset } from './dataset';
import { ruleError } from '../errors';
import { checkInteger } from './check_integer';
import { decodeRgb } from './decode_rgb';

export interface ImageFolderOptions {
  /** Output size; default 32×32 (CIFAR-10). */
  height?: number;
  width?: number;
  /** Classes to load, in label order; default every subfolder, sorted by name. */
  classNames?: string[];
  /** Images decoded at once; default 4. */
  concurrency?: number;
  /**
   * Fewest class folders accepted; default 2 (a classifier's training data). 1 for data that only has to hold
   * some of a model's classes (evaluation images, a separate validation folder).
   */
  minClasses?: number;
}

export interface ImageFolderDataset extends ImageDataset {
  /** Files that were not loaded, with the reason (e.g. "empty file", "not an image: ..."). */
  skipped: { path: string; reason: string }[];
  /** The path of every loaded image: files[i] is images[i]. */
  files: string[];
}

/**
 * Loads root/<class>/<image> into [count, height, width, 3] uint8 RGB. Labels index the sorted class folders;
 * images are in class order, then path order. Hidden files and folders (".name") are ignored.
 * Example: const ds = await loadImageFolder('photos', { height: 64, width: 64 }); ds.skipped.length → 0
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const { height = 32, width = 32, concurrency = 4 } = opts;
  checkInteger('INSIGHT_E_CONFIG', 'height', height, 1, 16384, 'Pass the image height in pixels, e.g. 32.');
  checkInteger('INSIGHT_E_CONFIG', 'width', width, 1, 16384, 'Pass the image width in pixels, e.g. 32.');
  checkInteger('INSIGHT_E_CONFIG', 'concurrency', concurrency, 1, 1024, 'Pass how many images to decode at once, e.g. 4.');
  const classNames = await listClasses(root, opts.classNames, opts.minClasses ?? 2);
  const candidates: { file: string; label: number }[] = [];
  for (let label = 0; label < classNames.length; label++) {
    for (const file of await listFiles(path.join(root, classNames[label]))) candidates.push({ file, label });
  }
  const stride = height * width * 3;
  const decoded = sharedBytes(candidates.length * stride);
  const slot = (i: number) => decoded.subarray(i * stride, (i + 1) * stride);
  const ok = new Uint8Array(candidates.length);
  const reasons = new Map<number, string>();
  let next = 0;
  const decodeNext = async (): Promise<void> => {
    for (let i = next++; i < candidates.length; i = next++) {
      const reason = await decodeInto(candidates[i].file, height, width, slot(i));
      if (reason === null) ok[i] = 1;
      else reasons.set(i, reason);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, decodeNext));
  // libvips keeps one error buffer for the whole process, so failures decoded at the same time can swap or mix
  // their messages. Failed files are decoded again one at a time for their own message (failures are rare).
  for (const i of [...reasons.keys()]) {
    const reason = await decodeInto(candidates[i].file, height, width, slot(i));
    if (reason === null) {
      ok[i] = 1;
      reasons.delete(i);
    } else {
      reasons.set(i, reason);
    }
  }

  const skipped = candidates.flatMap((c, i) => (ok[i] ? [] : [{ path: c.file, reason: reasons.get(i)! }]));
  const kept = candidates.flatMap((_, i) => (ok[i] ? [i] : []));
  if (kept.length === 0) {
    throw ruleError('INSIGHT_E_DATA', `An image folder needs at least one readable image under its class folders.`,
      { root, classNames, files: candidates.length, skipped: skipped.length },
      candidates.length === 0
        ? 'Put the images in the class folders (root/<class>/<image>.jpg).'
        : `Every file was skipped (first: ${skipped[0].path}: ${skipped[0].reason}); check the files are images.`);
  }
  const images = kept.length === candidates.length ? decoded : sharedBytes(kept.length * stride);
  const labels = new Int32Array(kept.length);
  kept.forEach((i, k) => {
    if (images !== decoded) images.set(decoded.subarray(i * stride, (i + 1) * stride), k * stride);
    labels[k] = candidates[i].label;
  });
  return {
    images, labels, count: kept.length, height, width, channels: 3, classNames,
    skipped, files: kept.map((i) => candidates[i].file),
  };
}

/** The class folder names: `requested` after checking each exists, else every visible subfolder, sorted. */
async function listClasses(root: string, requested: string[] | undefined, minClasses: number): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw ruleError('INSIGHT_E_DATA', 'The image folder root must be a readable folder.', { root, error: err.code ?? err.message },
      'Pass the folder that contains one subfolder per class (root/<class>/<image>).');
  });
  const folders: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await stat(path.join(root, e.name)).catch(() => null))?.isDirectory())) {
      folders.push(e.name);
    }
  }
  folders.sort();
  if (folders.length === 0) {
    throw ruleError('INSIGHT_E_DATA', 'An image folder needs one subfolder per class (root/<class>/<image>).',
      { root, subfolders: 0, files: entries.filter((e) => e.isFile()).length },
      'Move the images of each class into their own subfolder named after the class.');
  }
  const classNames = requested ?? folders;
  const missing = classNames.filter((name) => !folders.includes(name));
  if (missing.length > 0 || new Set(classNames).size !== classNames.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'classNames must name distinct subfolders of the image folder.', { classNames, subfolders: folders },
      'Pass names from the subfolder list, or omit classNames to use every subfolder.');
  }
  if (classNames.length < minClasses) {
    throw ruleError('INSIGHT_E_DATA', `An image classifier needs at least ${minClasses} class${minClasses === 1 ? '' : 'es'} (one subfolder each).`,
      { root, classNames }, 'Add a subfolder for each other class.');
  }
  return classNames;
}

/** Every visible file under `dir`, recursively, sorted by path. */
async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...(await listFiles(full)));
    else if (e.isFile() || e.isSymbolicLink()) files.push(full);
  }
  return files.sort();
}

/** Decodes `file` into out ([height, width, 3] uint8); returns null on success, else why it was skipped. */
async function decodeInto(file: string, height: number, width: number, out: Uint8Array): Promise<string | null> {
  const image = await readImageOrReason(file, height, width);
  if (typeof image === 'string') return image;
  out.set(image);
  return null;
}

/**
 * `file` decoded to [height, width, 3] uint8 RGB as the image folder loads it, or why it cannot be: 'not a regular
 * file', 'empty file (0 bytes)', 'not an image (...)' or 'cannot be decoded (...)' with the decoder's message.
 */
export async function readImageOrReason(file: string, height: number, width: number): Promise<Uint8Array | string> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return 'not a regular file';
  if (info.size === 0) return 'empty file (0 bytes)';
  try {
    return await decodeRgb(file, height, width);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]; // libvips may repeat the message on further lines
    return /unsupported image format/i.test(message) ? `not an image (${message})` : `cannot be decoded (${message})`;
  }
}
