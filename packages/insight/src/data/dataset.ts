// The in-memory dataset every loader produces and every consumer reads, plus the selections made on it
// (subsets, class filters, the train/validation split).
import { ruleError } from '../errors';
import { checkInteger } from './check_integer';
import { permutation, streamRng } from './random';

/**
 * A labelled image set held as raw bytes.
 * images: [count, height, width, 3] uint8 RGB, row-major (HWC per image, images back to back).
 * labels: [count] int32 class indices into classNames.
 * Loaders allocate `images` on a SharedArrayBuffer so DataLoader workers read it without a copy.
 */
export interface ImageDataset {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: 3;
  classNames: string[];
}

/** A zero-filled byte array on a SharedArrayBuffer (shareable with worker_threads without copying). */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Throws the house-style error unless `ds` is internally consistent (lengths, label range). */
export function checkDataset(ds: ImageDataset, name = 'dataset'): void {
  const { count, height, width } = ds;
  checkInteger('INSIGHT_E_DATA', `${name}.count`, count, 0);
  checkInteger('INSIGHT_E_DATA', `${name}.height`, height, 1);
  checkInteger('INSIGHT_E_DATA', `${name}.width`, width, 1);
  if (ds.channels !== 3) {
    throw ruleError('INSIGHT_E_DATA', `${name}.channels must be 3 (RGB).`, { channels: ds.channels }, 'Convert the images to RGB.');
  }
  if (ds.images.length !== count * height * width * 3) {
    throw ruleError('INSIGHT_E_DATA', `${name}.images must hold count*height*width*3 bytes.`,
      { 'images.length': ds.images.length, count, height, width },
      'Rebuild the dataset with a loader (loadCifar10, loadImageFolder) or fix the sizes.');
  }
  if (ds.labels.length !== count) {
    throw ruleError('INSIGHT_E_DATA', `${name}.labels must hold one label per image.`, { 'labels.length': ds.labels.length, count },
      'Rebuild the dataset so images and labels match.');
  }
  const classes = ds.classNames.length;
  for (let i = 0; i < count; i++) {
    const label = ds.labels[i];
    if (!(label >= 0 && label < classes)) {
      throw ruleError('INSIGHT_E_DATA', `Every label must be in [0, classNames.length).`,
        { index: i, label, 'classNames.length': classes }, 'Fix the labels or list every class in classNames.');
    }
  }
}

/** The images and labels at `indices` (in that order), copied into a new dataset. */
export function subsetDataset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const stride = ds.height * ds.width * 3;
  const n = indices.length;
  const images = sharedBytes(n * stride);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw ruleError('INSIGHT_E_CONFIG', 'Every subset index must be an integer in [0, count).', { position: k, index: i, count: ds.count },
        'Pass indices of records that exist in the dataset.');
    }
    images.set(ds.images.subarray(i * stride, (i + 1) * stride), k * stride);
    labels[k] = ds.labels[i];
  }
  return { ...ds, images, labels, count: n, classNames: ds.classNames.slice() };
}

/**
 * Keeps the records whose label is in `classes`. With relabel (default true) labels become positions in
 * `classes` and classNames is `classes` mapped to names (e.g. classes [3, 5] → cat=0, dog=1); without it the
 * original labels and class names are kept.
 */
export function filterClasses(ds: ImageDataset, classes: number[], relabel = true): ImageDataset {
  const known = ds.classNames.length;
  if (classes.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'filterClasses needs at least one class.', { classes }, `Pass class indices in [0, ${known}).`);
  }
  const position = new Int32Array(known).fill(-1);
  classes.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 0 || c >= known) {
      throw ruleError('INSIGHT_E_CONFIG', `Every class must be an integer in [0, ${known}).`, { classes },
        `Use indices into classNames (${ds.classNames.join(', ')}).`);
    }
    if (position[c] !== -1) throw ruleError('INSIGHT_E_CONFIG', 'Every class may appear only once.', { classes }, 'Remove the duplicates.');
    position[c] = k;
  });
  const kept: number[] = [];
  for (let i = 0; i < ds.count; i++) if (position[ds.labels[i]] !== -1) kept.push(i);
  const subset = subsetDataset(ds, kept);
  if (!relabel) return subset;
  for (let i = 0; i < subset.count; i++) subset.labels[i] = position[subset.labels[i]];
  return { ...subset, classNames: classes.map((c) => ds.classNames[c]) };
}

/** Options of splitTrainValidation: exactly one of validationCount, validationFraction. */
export interface SplitOptions {
  validationCount?: number;
  validationFraction?: number;
  /** Seed of the random split (shuffle: true); default 0. */
  seed?: number;
  /** false (default): the last records are validation. true: a seeded random choice. */
  shuffle?: boolean;
}

/**
 * Splits `ds` in two disjoint parts. By default the LAST `validationCount` records are the validation set
 * (the house convention: validate on the last 5,000 CIFAR-10 training records); the parts are then zero-copy
 * views sharing memory with `ds`. With shuffle: true a seeded random set is held out (copies; each part
 * keeps the original record order).
 */
export function splitTrainValidation(ds: ImageDataset, opts: SplitOptions): { train: ImageDataset; validation: ImageDataset } {
  const { validationCount, validationFraction, seed = 0, shuffle = false } = opts;
  const fix = 'Pass exactly one of validationCount (e.g. 5000) or validationFraction (e.g. 0.1).';
  if ((validationCount === undefined) === (validationFraction === undefined)) {
    throw ruleError('INSIGHT_E_CONFIG', 'splitTrainValidation needs exactly one of validationCount or validationFraction.',
      { validationCount, validationFraction }, fix);
  }
  if (ds.count < 2) {
    throw ruleError('INSIGHT_E_DATA', 'Splitting needs at least 2 records.', { count: ds.count }, 'Load more data before splitting.');
  }
  let v: number;
  if (validationCount !== undefined) {
    checkInteger('INSIGHT_E_DATA', 'validationCount', validationCount, 1, ds.count - 1,
      `Both parts need at least one record: pass 1 <= validationCount < count (${ds.count}).`);
    v = validationCount;
  } else {
    const f = validationFraction as number;
    v = Math.round(ds.count * f);
    if (!(f > 0 && f < 1) || v < 1 || v > ds.count - 1) {
      throw ruleError('INSIGHT_E_CONFIG', 'validationFraction must be in (0, 1) and leave at least one record in each part.',
        { validationFraction: f, count: ds.count }, 'Pass e.g. validationFraction: 0.1, or use validationCount.');
    }
  }
  checkInteger('INSIGHT_E_CONFIG', 'seed', seed, Number.MIN_SAFE_INTEGER);
  const trainCount = ds.count - v;
  if (!shuffle) {
    const stride = ds.height * ds.width * 3;
    const view = (from: number, to: number): ImageDataset => ({
      ...ds, images: ds.images.subarray(from * stride, to * stride), labels: ds.labels.subarray(from, to), count: to - from,
    });
    return { train: view(0, trainCount), validation: view(trainCount, ds.count) };
  }
  const order = permutation(ds.count, streamRng(seed, 'split'));
  return {
    train: subsetDataset(ds, order.subarray(v).sort()),
    validation: subsetDataset(ds, order.subarray(0, v).sort()),
  };
}
