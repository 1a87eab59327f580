// The images of a run, found again as the run chose them — one function for `insight explain --evaluate` (the
// run's validation images), the memory (its training images: the neighbours are images the model learned from) and
// the dashboard's panel (both). The data and split come from config.json through run/dataset_source.ts:
// loadRunSplit(source, runSplitSettings(config)) — seeded stratified splits of image folders, CIFAR-10's last records,
// --val-data, --limit — at the model's input size. A fine-tuning run then keeps its --classes (training and held-out
// images alike) and its first --per-class training images, as finetune/data.ts chose them. A run that recorded its
// data (data.json) must still find as many images on each side: otherwise the data changed since training, and the
// images would not be the ones the model trained or validated on.
import type { ImageDataset } from '../data';
import { ruleError } from '../errors';
import {
  heldOutDescription, loadRunSplit, readDataRecord, runSelection, runSplitSettings, selectedImages, type DatasetSource,
} from '../run/dataset_source';
import type { RunDir } from '../run/run_dir';

export interface RunImages {
  /** The images the model trained on (a fine-tuning run's classes and few-shot choice applied). */
  train: ImageDataset;
  /** The images it was validated on (a fine-tuning run's held-out images); null when the run kept none. */
  validation: ImageDataset | null;
  /** e.g. 'train (405 of 450 images, stratified, split seed 0)'. */
  trainDescription: string;
  /** e.g. 'validation (stratified 45 of 450 images, split seed 0)', 'held-out (last 10 of 100 images, classes cat,dog: 2 images)'. */
  validationDescription: string;
  /** What memory.json records about the training images: data, dataset kind, split settings and description. */
  source: Record<string, unknown>;
}

/**
 * The training and validation images of the train or finetune run `run`, sized [height, width] (the model's input).
 * Throws INSIGHT_E_DATA when the data is gone, no longer holds the run's images or has another image size,
 * INSIGHT_E_CONFIG for a config that names classes the data lacks.
 * Example: `const { train, validation } = await runImages(RunDir.at('runs/x'), [32, 32, 3])`.
 */
export async function runImages(run: RunDir, inputShape: readonly number[]): Promise<RunImages> {
  const config = run.readConfig() as Record<string, unknown>;
  const [height, width] = inputShape;
  const source: DatasetSource = {
    data: typeof config.data === 'string' ? config.data : null,
    dataset: (config.dataset as DatasetSource['dataset'] | undefined) ?? 'auto',
    imageSize: height, imageWidth: width,
  };
  const settings = runSplitSettings(config);
  const split = await loadRunSplit(source, settings);
  if (split.dataset.height !== height || split.dataset.width !== width) {
    throw ruleError('INSIGHT_E_DATA', 'The run\'s images must have the model\'s input size.',
      { images: `${split.dataset.height}x${split.dataset.width}`, model: `${height}x${width}` }, 'Explain with the model the run trained, or pass a run whose data matches it.');
  }
  const finetuned = typeof config.base === 'string';
  const { classes, perClass } = finetuned ? runSelection(config) : { classes: [], perClass: null };
  const train = selectedImages(split.train, { classes, perClass }, 'train');
  const validation = split.validation === null ? null : selectedImages(split.validation, { classes, perClass }, 'validation');
  const narrowed = classes.length > 0 || perClass !== null;
  const trainDescription = !narrowed ? split.trainDescription
    : `${split.trainDescription.replace(/\)$/, '')}${classes.length > 0 ? `, classes ${classes.join(',')}` : ''}`
      + `${perClass !== null ? `, first ${perClass} per class` : ''}: ${train.count} images)`;
  const images: RunImages = {
    train, validation, trainDescription,
    validationDescription: finetuned && validation !== null ? heldOutDescription(split, classes, validation.count) : split.validationDescription,
    source: {
      data: source.data, dataset: source.dataset, ...settings, ...(classes.length > 0 ? { classes } : {}), ...(perClass !== null ? { perClass } : {}),
      split: trainDescription,
    },
  };
  checkRecorded(run, images);
  return images;
}

/** The counts a run recorded in data.json must be those found now (a run without data.json is taken as it is). */
function checkRecorded(run: RunDir, images: RunImages): void {
  const record = readDataRecord(run);
  if (record === null) return;
  const now = { train: images.train.count, validation: images.validation?.count ?? 0 };
  const recorded = { train: record.train.count, validation: record.validation?.count ?? 0 };
  if (now.train !== recorded.train || now.validation !== recorded.validation) {
    throw ruleError('INSIGHT_E_DATA', 'The run\'s data changed since training: its split no longer has the images data.json records.',
      { run: run.id, data: record.data, recorded, now }, 'Restore the data the run used (or explain given images instead).');
  }
}
