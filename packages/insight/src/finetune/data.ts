// The images of a fine-tuning run: the new task's training images (optionally a few per class) and held-out
// images, and the base task's held-out images for the forgetting report. Held-out images are never trained on:
// they are split off as train's validation images are (run/dataset_source.ts: a seeded share of every class for
// image folders, CIFAR-10's last records, or a separate --val-data set), before --classes, so `insight evaluate`
// of the run finds them again.
import { type ImageDataset, type Normalization } from '../data';
import { firstPerClass, selectClasses } from '../data/dataset';
import { ruleError } from '../errors';
import { dataRecord, heldOutDescription, loadRunSplit, runSplitSettings, type DataRecord, type DatasetSource, type LoadedSplit } from '../run/dataset_source';
import { channelMeanStd } from '../train/data_setup';
import type { BaseModel } from './base_model';
import { listOf, type FinetuneConfig } from './config';

export { firstPerClass } from '../data/dataset';

export interface FinetuneData {
  train: ImageDataset;
  heldOut: ImageDataset;
  classNames: string[];
  normalization: Normalization;
  /** e.g. 'held-out (stratified 50 of 500 images, split seed 0, classes cat,dog: 10 images)'. */
  heldOutDescription: string;
  /** The base task's held-out images, labelled in the base's classes; null without a forgetting report. */
  forgetting: ImageDataset | null;
  /** The split and the skipped files, for the run's data.json (recordRunData writes it and says its notices). */
  record: DataRecord;
}

/** Loads and splits the data of `config` for `base` (images are sized to the base's input). */
export async function prepareFinetuneData(config: FinetuneConfig, base: BaseModel): Promise<FinetuneData> {
  const [height, width] = base.metadata.inputShape;
  const source: DatasetSource = { data: config.data, dataset: config.dataset, imageSize: height, imageWidth: width };
  const settings = runSplitSettings(config as unknown as Record<string, unknown>); // fine-tuning has no --limit: null
  const split = heldOutOf(await loadRunSplit(source, settings), height, width);
  const classes = listOf(config.classes);
  const train = classes.length > 0 ? selectClasses(split.train, classes, 'classes') : split.train;
  const heldOut = classes.length > 0 ? selectClasses(split.validation, classes, 'classes') : split.validation;
  const fewShot = config.perClass === null ? train : firstPerClass(train, config.perClass);
  const normalization = config.normalization === 'base' ? base.metadata.normalization
    : config.normalization === 'scale' ? { kind: 'scale' as const } : channelMeanStd(fewShot);
  let forgetting: ImageDataset | null = null;
  if (config.forgettingClasses !== null) {
    const other = config.forgettingData === null ? split
      : heldOutOf(await loadRunSplit({ ...source, data: config.forgettingData, dataset: 'auto' }, { ...settings, valData: null }), height, width);
    forgetting = selectClasses(other.validation, listOf(config.forgettingClasses), 'forgettingClasses');
    checkBaseClasses(forgetting.classNames, base);
  }
  const description = heldOutDescription(split, classes, heldOut.count);
  return {
    train: fewShot, heldOut, classNames: train.classNames, normalization, forgetting, heldOutDescription: description,
    record: dataRecord(source, settings, { ...split, validationDescription: description }, fewShot, heldOut),
  };
}

/** The split with its held-out part present, and images of the base's input size (CIFAR-10 is not resized). */
function heldOutOf(split: LoadedSplit, height: number, width: number): LoadedSplit & { validation: ImageDataset } {
  if (split.validation === null) {
    throw ruleError('INSIGHT_E_DATA', 'validationCount must leave images on both sides of the split.', { validationCount: 0, images: split.total },
      'Pass --validation-count, or use a larger dataset.');
  }
  if (split.dataset.height !== height || split.dataset.width !== width) {
    throw ruleError('INSIGHT_E_DATA', 'The images must have the base model\'s input size.',
      { images: `${split.dataset.height}x${split.dataset.width}`, base: `${height}x${width}` },
      'Fine-tune a base built for these images, or use an image folder (resized on loading).');
  }
  return split as LoadedSplit & { validation: ImageDataset };
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
