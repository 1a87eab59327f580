// Turns the `data` / `dataset` / `imageSize` settings of a config into an ImageDataset, and the split settings
// (--limit, --validation-count, --val-data, --split-method, --split-seed) into the images a run trains and
// validates on. train, finetune and evaluate all split here, so `insight evaluate <run>` finds the run's images
// again; the run records what it used in data.json (DataRecord). The data layer's errors carry their codes;
// other failures to read the data become INSIGHT_E_DATA.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadCifar10, loadImageFolder, splitTrainValidation, type ImageDataset } from '../data';
import { classCounts, firstPerClass, relabelByName, sampleDataset, selectClasses } from '../data/dataset';
import type { ImageFolderDataset } from '../data/image_folder';
import { InsightError, ruleError } from '../errors';
import { writeFileAtomic } from './atomic';
import { SPLIT_METHODS, type DatasetKind, type SplitMethod } from './config_fields';
import type { RunDir } from './run_dir';

export interface DatasetSource {
  /** Archive or folder; null = CIFAR-10 from the cache. */
  data: string | null;
  dataset: DatasetKind;
  /** Image folders are resized to imageSize x imageSize (x imageWidth when given). */
  imageSize: number;
  imageWidth?: number;
}

/** 'cifar10' for an archive file or a folder holding CIFAR-10's binary batches; else 'image-folder'. */
export function detectDatasetKind(dataPath: string): 'cifar10' | 'image-folder' {
  const stat = fs.statSync(dataPath);
  if (stat.isFile()) return 'cifar10';
  const looksCifar = (dir: string) => fs.existsSync(path.join(dir, 'batches.meta.txt')) || fs.existsSync(path.join(dir, 'data_batch_1.bin'));
  return looksCifar(dataPath) || looksCifar(path.join(dataPath, 'cifar-10-batches-bin')) ? 'cifar10' : 'image-folder';
}

/**
 * Loads the training ('train') or test ('test') split described by `source`. Image folders have one split:
 * asking one for 'test' is an error. minClasses: fewest class folders an image folder may have (default 2;
 * 1 for evaluation or validation images, which may hold some of a model's classes).
 */
export async function loadDataset(source: DatasetSource, split: 'train' | 'test' = 'train', options: { minClasses?: number } = {}): Promise<ImageDataset> {
  try {
    if (source.data !== null && !fs.existsSync(source.data)) {
      throw ruleError('INSIGHT_E_DATA', 'The data path must exist.', { data: source.data },
        'Pass a CIFAR-10 archive (cifar-10-binary.tar.gz), its extracted folder, or an image folder (<class>/<image>).');
    }
    const kind = source.dataset !== 'auto' ? source.dataset : source.data === null ? 'cifar10' : detectDatasetKind(source.data);
    if (kind === 'cifar10') return await loadCifar10({ path: source.data ?? undefined, split });
    if (source.data === null) {
      throw ruleError('INSIGHT_E_DATA', 'An image-folder dataset needs a path.', { data: null, dataset: 'image-folder' },
        'Pass --data <folder with one subfolder per class>.');
    }
    if (split === 'test') {
      throw ruleError('INSIGHT_E_DATA', 'An image folder has a single split; there is no separate test split.', { data: source.data, split },
        'Evaluate with --split validation (or all), or point --data at a folder of test images.');
    }
    return await loadImageFolder(source.data, { height: source.imageSize, width: source.imageWidth ?? source.imageSize, minClasses: options.minClasses });
  } catch (error) {
    if (error instanceof InsightError) throw error;
    const err = error as NodeJS.ErrnoException;
    throw ruleError('INSIGHT_E_DATA', 'The dataset must be readable.', { data: source.data, error: err.message ?? String(error) },
      'Check the path and its permissions.');
  }
}

/** How a run chooses its images: the config keys of the same names (train, finetune; evaluate for --data). */
export interface SplitSettings {
  /** Use only this many images (null: all): the same share of every class (stratified), or the first ones (last). */
  limit: number | null;
  /** Images held out for validation; null: 10% of the images; 0: none. */
  validationCount: number | null;
  /** A separate validation set (classes matched by name); then every image of the dataset trains. */
  valData: string | null;
  /** auto: stratified for image folders, last for CIFAR-10 (its house split: the last records of the shuffled archive). */
  splitMethod: SplitMethod;
  /** Seed of the stratified split and limit (apart from the training seed, so seeds compare on the same images). */
  splitSeed: number;
}

/** Every split setting at its default: the run validates on 10% of the images, split per the dataset's kind. */
export const DEFAULT_SPLIT: Readonly<SplitSettings> = Object.freeze({ limit: null, validationCount: null, valData: null, splitMethod: 'auto', splitSeed: 0 });

/** The images a run trains and validates on. */
export interface RunSplit {
  train: ImageDataset;
  /** null when validationCount is 0. */
  validation: ImageDataset | null;
  /** Images after --limit. */
  total: number;
  /** e.g. 'validation (last 5000 of 50000 images)', 'validation (stratified 50 of 500 images, split seed 0)'. */
  validationDescription: string;
  /** e.g. 'train (first 45000 of 50000 images)'. */
  trainDescription: string;
  /** How the validation images were chosen. */
  method: 'stratified' | 'last' | 'val-data' | 'none';
}

/** 'auto' resolved for `ds`: image folders (which know their files) split stratified, CIFAR-10 the last records. */
export function resolveSplitMethod(method: SplitMethod, ds: ImageDataset): 'stratified' | 'last' {
  return method !== 'auto' ? method : ds.files !== undefined ? 'stratified' : 'last';
}

/**
 * A run's split of `ds`: `limit` images (all when null), of which `validationCount` (default 10%, i.e. 5,000 of
 * CIFAR-10's 50,000) validate — for image folders the same share of every class chosen with the split seed, for
 * CIFAR-10 the last records (options.method overrides). `insight evaluate` uses it to find a run's split again.
 * Example: splitForRun(await loadDataset(source), null, null) → 450 training and 50 validation images of 500.
 */
export function splitForRun(ds: ImageDataset, limit: number | null, validationCount: number | null,
  options: { method?: SplitMethod; seed?: number } = {}): RunSplit {
  const method = resolveSplitMethod(options.method ?? 'auto', ds);
  const seed = options.seed ?? 0;
  const stratify = method === 'stratified';
  const limited = limit === null ? ds : sampleDataset(ds, limit, { stratify, seed });
  const n = limited.count;
  const count = validationCount ?? Math.round(n * 0.1);
  if (count >= n) {
    throw ruleError('INSIGHT_E_DATA', 'validationCount must leave at least one training image.',
      { validationCount: count, images: n }, 'Lower --validation-count, or use more images (--limit).');
  }
  if (count === 0) {
    const all = `training set (${n} images, no validation split)`;
    return { train: limited, validation: null, total: n, validationDescription: all, trainDescription: all, method: 'none' };
  }
  const { train, validation } = splitTrainValidation(limited, { validationCount: count, stratify, shuffle: stratify, seed });
  return stratify
    ? { train, validation, total: n, method,
      validationDescription: `validation (stratified ${count} of ${n} images, split seed ${seed})`,
      trainDescription: `train (${train.count} of ${n} images, stratified, split seed ${seed})` }
    : { train, validation, total: n, method,
      validationDescription: `validation (last ${count} of ${n} images)`, trainDescription: `train (first ${train.count} of ${n} images)` };
}

/**
 * How a fine-tuning run names its held-out images (the report's split, and evaluate's of the run), e.g.
 * 'held-out (stratified 9 of 36 images, split seed 2, classes ship,cat: 6 images)'.
 */
export function heldOutDescription(split: Pick<RunSplit, 'validationDescription'>, classes: string[], count: number): string {
  const where = split.validationDescription.replace(/^validation \((.*)\)$/, '$1');
  return `held-out (${where}${classes.length > 0 ? `, classes ${classes.join(',')}` : ''}: ${count} images)`;
}

/** A file that was not loaded, and why (image folders). */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** A run's data: its split, the whole dataset it came from, and the files skipped while loading (--data, then --val-data). */
export interface LoadedSplit extends RunSplit {
  dataset: ImageDataset;
  skipped: SkippedFile[];
}

/**
 * Loads `source` (and settings.valData) and splits it per `settings`. With valData every image of the dataset (after
 * --limit) trains and the validation set is that dataset, its labels mapped to the training classes by name.
 * minClasses: as for loadDataset (1 for evaluation data).
 */
export async function loadRunSplit(source: DatasetSource, settings: SplitSettings, options: { minClasses?: number } = {}): Promise<LoadedSplit> {
  checkSplitSettings(settings);
  const dataset = await loadDataset(source, 'train', options);
  const skipped = skippedOf(dataset);
  if (settings.valData === null) {
    return { ...splitForRun(dataset, settings.limit, settings.validationCount, { method: settings.splitMethod, seed: settings.splitSeed }), dataset, skipped };
  }
  const method = resolveSplitMethod(settings.splitMethod, dataset);
  const train = settings.limit === null ? dataset
    : sampleDataset(dataset, settings.limit, { stratify: method === 'stratified', seed: settings.splitSeed });
  const loaded = await loadDataset({ ...source, data: settings.valData }, 'train', { minClasses: 1 });
  const validation = relabelByName(loaded, dataset.classNames, 'the training data');
  return {
    train, validation, total: train.count, method: 'val-data', dataset, skipped: [...skipped, ...skippedOf(loaded)],
    validationDescription: `validation (${validation.count} images of ${settings.valData})`,
    trainDescription: `train (${train.count === dataset.count ? 'all' : `${train.count} of`} ${dataset.count} images)`,
  };
}

function checkSplitSettings(settings: SplitSettings): void {
  if (!(SPLIT_METHODS as readonly string[]).includes(settings.splitMethod)) {
    throw ruleError('INSIGHT_E_CONFIG', `splitMethod must be one of ${SPLIT_METHODS.join(', ')}.`, { splitMethod: settings.splitMethod },
      'Pass e.g. --split-method stratified.');
  }
  if (settings.valData !== null && settings.validationCount !== null) {
    throw ruleError('INSIGHT_E_CONFIG', 'A separate validation set replaces the held-out split: give --val-data or --validation-count, not both.',
      { valData: settings.valData, validationCount: settings.validationCount }, 'Drop --validation-count (every --data image then trains), or drop --val-data.');
  }
}

function skippedOf(ds: ImageDataset): SkippedFile[] {
  return ((ds as Partial<ImageFolderDataset>).skipped ?? []).map(({ path: file, reason }) => ({ path: file, reason }));
}

/**
 * The split settings a saved run used, from its config.json. A run saved before --split-method existed used the
 * last records (class-sorted for image folders), so that is what it gets back.
 */
export function runSplitSettings(config: Record<string, unknown>): SplitSettings {
  const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);
  return {
    limit: numberOrNull(config.limit),
    validationCount: numberOrNull(config.validationCount),
    valData: typeof config.valData === 'string' ? config.valData : null,
    splitMethod: 'splitMethod' in config ? config.splitMethod as SplitMethod : 'last',
    splitSeed: typeof config.splitSeed === 'number' ? config.splitSeed : 0,
  };
}

/** Which images of its split a run used: a fine-tuning run's --classes and --per-class (a train run: all of them). */
export interface RunSelection {
  /** Class indices or names, in the order the run relabels them 0..k-1; empty: every class. */
  classes: string[];
  /** The first this many training images of each class; null: all. */
  perClass: number | null;
}

/** A saved run's RunSelection, from its config.json (`classes` as a comma-separated string, `perClass`). */
export function runSelection(config: Record<string, unknown>): RunSelection {
  const classes = typeof config.classes === 'string' ? config.classes.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  return { classes, perClass: typeof config.perClass === 'number' ? config.perClass : null };
}

/**
 * The images of `ds` (one side of the run's split) the run used: its classes, relabelled as the run relabelled them,
 * and on the training side its first perClass images of each class.
 */
export function selectedImages(ds: ImageDataset, selection: RunSelection, side: 'train' | 'validation'): ImageDataset {
  const chosen = selection.classes.length > 0 ? selectClasses(ds, selection.classes, 'classes') : ds;
  return side === 'train' && selection.perClass !== null ? firstPerClass(chosen, selection.perClass) : chosen;
}

/** data.json: what a run trained and validated on, written when the run starts (RunDir.dataJson). */
export interface DataRecord {
  /** --data (null: CIFAR-10 from the cache) and what it was read as. */
  data: string | null;
  dataset: 'cifar10' | 'image-folder';
  split: { method: RunSplit['method']; seed: number | null; limit: number | null; validationCount: number; valData: string | null };
  train: { count: number; perClass: Record<string, number> };
  /** files: the validation images, relative to their folder (--val-data's, else --data's), for image folders. */
  validation: { count: number; perClass: Record<string, number>; description: string; files?: string[] } | null;
  /** Files of --data and --val-data that were not loaded, with the reason. */
  skipped: SkippedFile[];
}

/** The DataRecord of a run that trains on `train` and validates on `validation` (both after any class selection). */
export function dataRecord(source: DatasetSource, settings: SplitSettings, split: Pick<LoadedSplit, 'method' | 'skipped' | 'validationDescription'>,
  train: ImageDataset, validation: ImageDataset | null): DataRecord {
  const perClass = (ds: ImageDataset) => {
    const counts = classCounts(ds);
    return Object.fromEntries(ds.classNames.map((name, c) => [name, counts[c]]));
  };
  const root = split.method === 'val-data' ? settings.valData : source.data;
  const files = validation?.files !== undefined && root !== null
    ? { files: validation.files.map((file) => path.relative(root, file).split(path.sep).join('/')) } : {};
  return {
    data: source.data,
    dataset: train.files !== undefined ? 'image-folder' : 'cifar10',
    split: {
      method: split.method, seed: split.method === 'stratified' || settings.limit !== null ? settings.splitSeed : null,
      limit: settings.limit, validationCount: validation?.count ?? 0, valData: settings.valData,
    },
    train: { count: train.count, perClass: perClass(train) },
    validation: validation === null ? null
      : { count: validation.count, perClass: perClass(validation), description: split.validationDescription, ...files },
    skipped: split.skipped,
  };
}

/** Validation sets smaller than this get a warning: their accuracy is uncertain by more than ±10 points. */
export const MIN_VALIDATION_IMAGES = 100;

/**
 * What a run says about its data when it starts: the files it skipped (the first few, with reasons), a validation
 * set too small to mean much (under MIN_VALIDATION_IMAGES: the 95% interval of an accuracy measured on n images is
 * up to ±1.96·√(0.25/n), more than ±9.8 points), and classes it never validates.
 */
export function dataNotices(record: DataRecord, listedIn: string): string[] {
  const notices: string[] = [];
  const { skipped, validation } = record;
  if (skipped.length > 0) {
    const shown = skipped.slice(0, 3).map((s) => `${s.path} (${s.reason})`).join('; ');
    notices.push(`  skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that could not be read as images (all listed in ${listedIn}): `
      + `${shown}${skipped.length > 3 ? '; ...' : ''}`);
  }
  if (validation === null) return notices;
  if (validation.count < MIN_VALIDATION_IMAGES) {
    const halfWidth = 196 * Math.sqrt(0.25 / validation.count);
    notices.push(`  warning: the validation set has only ${validation.count} images (under ${MIN_VALIDATION_IMAGES}), so its accuracy is uncertain by up to `
      + `±${halfWidth.toFixed(1)} points (95% interval); hold out more images (--validation-count) or pass a larger --val-data.`);
  }
  const trained = Object.entries(record.train.perClass).filter(([, n]) => n > 0).map(([name]) => name);
  const unseen = trained.filter((name) => !(validation.perClass[name] > 0));
  if (unseen.length > 0) {
    notices.push(`  warning: ${unseen.length} of ${trained.length} classes have no validation images (${unseen.join(', ')}), so their accuracy is not measured; `
      + `hold out at least one image of each (--validation-count >= ${trained.length}, --split-method stratified) or add images.`);
  }
  return notices;
}

/** Writes the run's data.json, then says its notices (skipped files, validation warnings). */
export function recordRunData(run: RunDir, record: DataRecord, say: (line: string) => void): void {
  writeFileAtomic(run.dataJson, `${JSON.stringify(record, null, 2)}\n`);
  dataNotices(record, run.relative(run.dataJson)).forEach(say);
}

/** The run's data.json, or null for a run that has none (runs saved before it existed). */
export function readDataRecord(run: RunDir): DataRecord | null {
  return fs.existsSync(run.dataJson) ? JSON.parse(fs.readFileSync(run.dataJson, 'utf8')) as DataRecord : null;
}
