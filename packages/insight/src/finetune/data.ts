// The images of a fine-tuning run: the new task's training images (optionally a few per class) and held-out
// images, and the base task's held-out images for the forgetting report. Held-out images are never trained on:
// they are the last `validationCount` records of the dataset (the house convention; CIFAR-10's records are
// shuffled), or for an image folder, whose records are sorted by class, the same share of each class.
import * as fs from 'node:fs';

import { filterClasses, loadImageFolder, splitTrainValidation, subsetDataset, type ImageDataset, type Normalization } from '../data';
import { ruleError } from '../errors';
import { loadDataset, detectDatasetKind } from '../run/dataset_source';
import { channelMeanStd } from '../train/data_setup';
import type { BaseModel } from './base_model';
import { listOf, type FinetuneConfig } from './config';

export interface FinetuneData {
  train: ImageDataset;
  heldOut: ImageDataset;
  classNames: string[];
  normalization: Normalization;
  /** e.g. 'held-out (last 5000 records, classes 5,6,7,8,9: 2512 images)'. */
  heldOutDescription: string;
  /** The base task's held-out images, labelled in the base's classes; null without a forgetting report. */
  forgetting: ImageDataset | null;
}

/** Loads and splits the data of `config` for `base` (images are sized to the base's input). */
export async function prepareFinetuneData(config: FinetuneConfig, base: BaseModel): Promise<FinetuneData> {
  const [height, width] = base.metadata.inputShape;
  const ds = await loadAny(config.data, config.dataset, height, width);
  const split = heldOutSplit(ds, config.validationCount);
  const classes = listOf(config.classes);
  const train = classes.length > 0 ? filterClasses(split.train, classIndices(classes, ds.classNames, 'classes')) : split.train;
  const heldOut = classes.length > 0 ? filterClasses(split.heldOut, classIndices(classes, ds.classNames, 'classes')) : split.heldOut;
  const fewShot = config.perClass === null ? train : firstPerClass(train, config.perClass);
  const normalization = config.normalization === 'base' ? base.metadata.normalization
    : config.normalization === 'scale' ? { kind: 'scale' as const } : channelMeanStd(fewShot);
  let forgetting: ImageDataset | null = null;
  if (config.forgettingClasses !== null) {
    const source = config.forgettingData === null ? split : heldOutSplit(await loadAny(config.forgettingData, 'auto', height, width), config.validationCount);
    const wanted = listOf(config.forgettingClasses);
    forgetting = filterClasses(source.heldOut, classIndices(wanted, source.heldOut.classNames, 'forgettingClasses'));
    checkBaseClasses(forgetting.classNames, base);
  }
  return {
    train: fewShot, heldOut, classNames: train.classNames, normalization, forgetting,
    heldOutDescription: `held-out (${split.description}${classes.length > 0 ? `, classes ${classes.join(',')}` : ''}: ${heldOut.count} images)`,
  };
}

/** A CIFAR-10 archive/folder or an image folder (resized to height x width). */
async function loadAny(data: string | null, dataset: FinetuneConfig['dataset'], height: number, width: number): Promise<ImageDataset> {
  const kind = dataset !== 'auto' ? dataset : data === null ? 'cifar10' : fs.existsSync(data) ? detectDatasetKind(data) : 'cifar10';
  if (kind === 'image-folder' && data !== null) return loadImageFolder(data, { height, width });
  const ds = await loadDataset({ data, dataset: 'cifar10', imageSize: height });
  if (ds.height !== height || ds.width !== width) {
    throw ruleError('INSIGHT_E_DATA', 'The images must have the base model\'s input size.',
      { images: `${ds.height}x${ds.width}`, base: `${height}x${width}` }, 'Fine-tune a base built for these images, or use an image folder (resized on loading).');
  }
  return ds;
}

/** Train/held-out split: the last `count` records (default 10%); for class-sorted image folders, that share of each class. */
function heldOutSplit(ds: ImageDataset, count: number | null): { train: ImageDataset; heldOut: ImageDataset; description: string } {
  const n = count ?? Math.round(ds.count * 0.1);
  if (n < 1 || n >= ds.count) {
    throw ruleError('INSIGHT_E_DATA', 'validationCount must leave images on both sides of the split.', { validationCount: n, images: ds.count },
      'Lower --validation-count, or use a larger dataset.');
  }
  const sorted = isClassSorted(ds.labels);
  const heldOutIndex: number[] = [];
  const trainIndex: number[] = [];
  if (!sorted) {
    const { train, validation } = splitTrainValidation(ds, { validationCount: n, shuffle: false });
    return { train, heldOut: validation, description: `last ${n} of ${ds.count} records` };
  }
  const share = n / ds.count;
  const byClass = indicesByClass(ds);
  for (const indices of byClass) {
    const k = Math.min(indices.length - 1, Math.max(indices.length > 1 ? 1 : 0, Math.round(indices.length * share)));
    trainIndex.push(...indices.slice(0, indices.length - k));
    heldOutIndex.push(...indices.slice(indices.length - k));
  }
  return {
    train: subsetDataset(ds, trainIndex.sort((a, b) => a - b)), heldOut: subsetDataset(ds, heldOutIndex.sort((a, b) => a - b)),
    description: `last ${Math.round(share * 100)}% of each class of ${ds.count} class-sorted images`,
  };
}

function isClassSorted(labels: Int32Array): boolean {
  for (let i = 1; i < labels.length; i++) if (labels[i] < labels[i - 1]) return false;
  return true;
}

function indicesByClass(ds: ImageDataset): number[][] {
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  return byClass;
}

/** The first `n` images of each class (in record order): the few-shot training set. */
export function firstPerClass(ds: ImageDataset, n: number): ImageDataset {
  const byClass = indicesByClass(ds);
  const short = byClass.map((indices, c) => ({ c, have: indices.length })).filter(({ have }) => have < n);
  if (short.length > 0) {
    throw ruleError('INSIGHT_E_DATA', 'Every class needs at least --per-class training images.',
      { perClass: n, classes: short.map(({ c, have }) => `${ds.classNames[c]}: ${have}`) }, 'Lower --per-class, or add images.');
  }
  return subsetDataset(ds, byClass.flatMap((indices) => indices.slice(0, n)).sort((a, b) => a - b));
}

/** Class selectors (indices or names) → indices into classNames. */
function classIndices(selectors: string[], classNames: string[], key: string): number[] {
  return selectors.map((s) => {
    const index = /^\d+$/.test(s) ? Number(s) : classNames.indexOf(s);
    if (!(index >= 0 && index < classNames.length)) {
      throw ruleError('INSIGHT_E_CONFIG', `Every entry of ${key} must be a class index or name of the dataset.`, { [key]: selectors.join(','), unknown: s },
        `Use indices 0-${classNames.length - 1} or names: ${classNames.join(', ')}.`);
    }
    return index;
  });
}

/** The forgetting data's classes must be the base's: as many, and the same names when the base names them. */
function checkBaseClasses(names: string[], base: BaseModel): void {
  const baseNames = base.metadata.classNames;
  const unnamed = baseNames.every((name, i) => name === String(i));
  if (names.length !== baseNames.length || (!unnamed && names.some((name, i) => name !== baseNames[i]))) {
    throw ruleError('INSIGHT_E_CONFIG', 'forgettingClasses must select the base model\'s classes, in the base\'s order.',
      { forgettingClasses: names, baseClasses: baseNames }, 'Pass the base task\'s class indices, e.g. 0,1,2,3,4.');
  }
}
