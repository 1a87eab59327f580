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
  /** The file each image was read from (image folders): files[i] is image i. Selections keep it in step. */
  files?: string[];
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
  const files = ds.files === undefined ? {} : { files: Array.from(indices, (i) => ds.files![i]) };
  return { ...ds, images, labels, count: n, classNames: ds.classNames.slice(), ...files };
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
  /**
   * true: hold out the same share of every class (largest-remainder rounding, at least one image of every class
   * that has two, never a class's last training image), as scikit-learn's train_test_split(stratify=labels).
   * Within a class the choice is seeded (shuffle: true) or its last records.
   */
  stratify?: boolean;
}

/**
 * Splits `ds` in two disjoint parts. By default the LAST `validationCount` records are the validation set
 * (the house convention: validate on the last 5,000 CIFAR-10 training records); the parts are then zero-copy
 * views sharing memory with `ds`. With shuffle: true a seeded random set is held out, with stratify: true the
 * same share of every class (copies; each part keeps the original record order).
 * Example: splitTrainValidation(ds, { validationFraction: 0.2, stratify: true, shuffle: true, seed: 0 }).
 */
export function splitTrainValidation(ds: ImageDataset, opts: SplitOptions): { train: ImageDataset; validation: ImageDataset } {
  const { validationCount, validationFraction, seed = 0, shuffle = false, stratify = false } = opts;
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
  if (stratify) {
    const held = stratifiedPick(ds, v, 'split', { seed, shuffle, keepOne: true });
    const inValidation = new Uint8Array(ds.count);
    for (const i of held) inValidation[i] = 1;
    const rest: number[] = [];
    for (let i = 0; i < ds.count; i++) if (!inValidation[i]) rest.push(i);
    return { train: subsetDataset(ds, rest), validation: subsetDataset(ds, held) };
  }
  if (!shuffle) {
    const stride = ds.height * ds.width * 3;
    const view = (from: number, to: number): ImageDataset => ({
      ...ds, images: ds.images.subarray(from * stride, to * stride), labels: ds.labels.subarray(from, to), count: to - from,
      ...(ds.files === undefined ? {} : { files: ds.files.slice(from, to) }),
    });
    return { train: view(0, trainCount), validation: view(trainCount, ds.count) };
  }
  const order = permutation(ds.count, streamRng(seed, 'split'));
  return {
    train: subsetDataset(ds, order.subarray(v).sort()),
    validation: subsetDataset(ds, order.subarray(0, v).sort()),
  };
}

/**
 * `count` records of `ds` (record order kept): the first `count`, or with stratify: true the same share of every
 * class (each class that has images keeps at least one when count allows), chosen with `seed`.
 * Example: sampleDataset(ds, 40, { stratify: true, seed: 0 }) on 10 classes of 50 → 4 images of each class.
 */
export function sampleDataset(ds: ImageDataset, count: number, opts: { stratify?: boolean; seed?: number } = {}): ImageDataset {
  const { stratify = false, seed = 0 } = opts;
  checkInteger('INSIGHT_E_CONFIG', 'limit', count, 1, Number.MAX_SAFE_INTEGER, 'Pass how many images to use, e.g. --limit 2000.');
  if (count >= ds.count) return ds;
  if (!stratify) return subsetDataset(ds, Array.from({ length: count }, (_, i) => i));
  return subsetDataset(ds, stratifiedPick(ds, count, 'limit', { seed, shuffle: true, keepOne: false }));
}

/** Images per class: counts[c] = number of records labelled c. */
export function classCounts(ds: ImageDataset): number[] {
  const counts = ds.classNames.map(() => 0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

/**
 * `total` records picked class by class in proportion to the class sizes (see apportion), sorted. Within a class:
 * the first records of its seeded permutation (keyed by the class NAME, so adding a class leaves the others' picks
 * alone), or without shuffle its last records. keepOne: never pick a class's last remaining record.
 */
function stratifiedPick(ds: ImageDataset, total: number, stream: string, opts: { seed: number; shuffle: boolean; keepOne: boolean }): number[] {
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  const caps = byClass.map((indices) => Math.max(0, indices.length - (opts.keepOne ? 1 : 0)));
  const room = caps.reduce((a, b) => a + b, 0);
  if (total > room) {
    throw ruleError('INSIGHT_E_DATA', 'A stratified split keeps at least one training image of every class.',
      { validationCount: total, images: ds.count, classes: byClass.filter((indices) => indices.length > 0).length },
      `Hold out at most ${room} images (lower --validation-count), or add images.`);
  }
  const shares = apportion(byClass.map((indices) => indices.length), caps, total);
  const picked: number[] = [];
  byClass.forEach((indices, c) => {
    if (shares[c] === 0) return;
    if (!opts.shuffle) {
      picked.push(...indices.slice(indices.length - shares[c]));
      return;
    }
    const order = permutation(indices.length, streamRng(opts.seed, stream, ds.classNames[c]));
    for (let k = 0; k < shares[c]; k++) picked.push(indices[order[k]]);
  });
  return picked.sort((a, b) => a - b);
}

/**
 * Integer shares of `total` proportional to `sizes` (largest remainder, ties to the lower class index), each at
 * most caps[c]; every class with caps[c] >= 1 gets at least 1 when total allows it.
 * Example: apportion([50, 50, 50], [49, 49, 49], 20) → [7, 7, 6].
 */
export function apportion(sizes: number[], caps: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const ideal = sizes.map((size) => (n === 0 ? 0 : (total * size) / n));
  const eligible = caps.filter((cap) => cap >= 1).length;
  const low = caps.map((cap) => (cap >= 1 && total >= eligible ? 1 : 0));
  const shares = ideal.map((q, c) => Math.min(caps[c], Math.max(low[c], Math.floor(q))));
  let missing = total - shares.reduce((a, b) => a + b, 0);
  const best = (ok: (c: number) => boolean, score: (c: number) => number): number => {
    let chosen = -1;
    for (let c = 0; c < shares.length; c++) if (ok(c) && (chosen < 0 || score(c) > score(chosen))) chosen = c;
    return chosen;
  };
  for (; missing > 0; missing--) shares[best((c) => shares[c] < caps[c], (c) => ideal[c] - shares[c])]++;
  for (; missing < 0; missing++) shares[best((c) => shares[c] > low[c], (c) => shares[c] - ideal[c])]--;
  return shares;
}

/**
 * `ds` with its labels re-expressed as indices into `classNames` (matched by name), e.g. a folder of cat/ and dog/
 * against a model's ten CIFAR-10 classes → labels 3 and 5, classNames the model's ten. A class of `ds` missing from
 * `classNames` is an error naming it. Shares the images with `ds`.
 */
export function relabelByName(ds: ImageDataset, classNames: string[], what = 'the model'): ImageDataset {
  const target = ds.classNames.map((name) => classNames.indexOf(name));
  if (target.every((t, c) => t === c) && ds.classNames.length === classNames.length) return ds;
  const counts = classCounts(ds);
  const absent = ds.classNames.filter((_, c) => target[c] < 0 && counts[c] > 0);
  if (absent.length > 0) {
    throw ruleError('INSIGHT_E_DATA', `Every class of the data must be one of ${what}'s classes (matched by name).`,
      { absent, classes: classNames },
      `Remove the images of ${absent.join(', ')} (for an image folder: those subfolders), or use ${what === 'the model' ? 'a model trained on them' : 'data with those classes'}.`);
  }
  const labels = new Int32Array(ds.count);
  for (let i = 0; i < ds.count; i++) labels[i] = target[ds.labels[i]];
  return { ...ds, labels, classNames: classNames.slice() };
}

/**
 * Keeps the classes named by `selectors` (class indices or names, in that order) and relabels them 0..k-1, as
 * fine-tuning's --classes does: selectClasses(ds, ['cat', 'dog'], 'classes') → cat=0, dog=1.
 */
export function selectClasses(ds: ImageDataset, selectors: string[], key: string): ImageDataset {
  const indices = selectors.map((s) => {
    const index = /^\d+$/.test(s) ? Number(s) : ds.classNames.indexOf(s);
    if (!(index >= 0 && index < ds.classNames.length)) {
      throw ruleError('INSIGHT_E_CONFIG', `Every entry of ${key} must be a class index or name of the dataset.`, { [key]: selectors.join(','), unknown: s },
        `Use indices 0-${ds.classNames.length - 1} or names: ${ds.classNames.join(', ')}.`);
    }
    return index;
  });
  return filterClasses(ds, indices);
}

/** The first `n` images of each class (in record order): a few-shot training set. Every class needs n. */
export function firstPerClass(ds: ImageDataset, n: number): ImageDataset {
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  const short = byClass.map((indices, c) => ({ c, have: indices.length })).filter(({ have }) => have < n);
  if (short.length > 0) {
    throw ruleError('INSIGHT_E_DATA', 'Every class needs at least --per-class training images.',
      { perClass: n, classes: short.map(({ c, have }) => `${ds.classNames[c]}: ${have}`) }, 'Lower --per-class, or add images.');
  }
  return subsetDataset(ds, byClass.flatMap((indices) => indices.slice(0, n)).sort((a, b) => a - b));
}
