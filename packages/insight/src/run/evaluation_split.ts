// The images a saved model is evaluated (or calibrated) on, chosen as `insight evaluate` chooses them: with --data,
// that dataset split with the given settings; for a run, the run's own data, limit, split and (fine-tuning) classes,
// its validation images as recorded in its data.json; for a bare model directory, CIFAR-10 from the cache.
// evaluate (eval/) and calibrate (calibrate/) both select their images here.
import * as path from 'node:path';

import type { ImageDataset } from '../data';
import { classCounts, subsetDataset } from '../data/dataset';
import { ruleError } from '../errors';
import type { SplitMethod } from './config_fields';
import {
  DEFAULT_SPLIT, heldOutDescription, loadDataset, loadRunSplit, readDataRecord, runSelection, runSplitSettings, selectedImages, type DataRecord,
  type DatasetSource, type LoadedSplit,
} from './dataset_source';
import type { RunDir } from './run_dir';

/** Which images to use (evaluate's and calibrate's settings; null = the run's, else the default). */
export interface EvaluationSplitChoice {
  data: string | null;
  dataset: DatasetSource['dataset'];
  split: 'validation' | 'test' | 'train' | 'all';
  limit: number | null;
  validationCount: number | null;
  splitMethod: SplitMethod | null;
  splitSeed: number | null;
}

/**
 * The images to evaluate. With --data: that dataset, split with the given settings (or their defaults). Without,
 * for a run: the run's data, limit, split and (fine-tuning) classes; for a bare model directory: CIFAR-10 from the cache.
 */
export async function selectEvaluationSplit(config: EvaluationSplitChoice, inputShape: [number, number, number], run: RunDir | null): Promise<{ dataset: ImageDataset; description: string }> {
  const saved = run === null ? null : run.readConfig() as Record<string, unknown>;
  const [height, width] = inputShape;
  const source: DatasetSource = {
    data: saved === null ? config.data : typeof saved.data === 'string' ? saved.data : null,
    dataset: saved === null ? config.dataset : (saved.dataset as DatasetSource['dataset'] | undefined) ?? 'auto',
    imageSize: height, imageWidth: width,
  };
  // A fine-tuning run trains on some classes of its data (--classes), and few of each (--per-class).
  const selection = runSelection(saved ?? {});
  const ofRun = (ds: ImageDataset) => selectedImages(ds, selection, 'validation');
  if (config.split === 'test') {
    const ds = ofRun(await loadDataset(source, 'test'));
    return { dataset: ds, description: `test (${ds.count} images)` };
  }
  if (config.split === 'all') {
    const ds = ofRun(await loadDataset(source, 'train', { minClasses: 1 }));
    return { dataset: ds, description: `all (${ds.count} images)` };
  }
  const base = saved === null ? DEFAULT_SPLIT : runSplitSettings(saved);
  const overridden = config.limit !== null || config.validationCount !== null || config.splitMethod !== null || config.splitSeed !== null;
  const split = await loadRunSplit(source, {
    limit: config.limit ?? base.limit,
    validationCount: config.validationCount ?? base.validationCount,
    valData: config.validationCount === null ? base.valData : null,
    splitMethod: config.splitMethod ?? base.splitMethod,
    splitSeed: config.splitSeed ?? base.splitSeed,
  }, { minClasses: 1 });
  if (config.split === 'train') {
    return { dataset: selectedImages(split.train, selection, 'train'), description: split.trainDescription };
  }
  if (split.validation === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'The validation split is empty for this run (validationCount 0).', { split: 'validation' },
      'Pass --split train, --split all or --validation-count <n>.');
  }
  const record = run !== null && !overridden ? readDataRecord(run) : null;
  if (record?.validation) return { dataset: ofRun(recordedValidation(record, split, source)), description: record.validation.description };
  const validation = ofRun(split.validation);
  const finetuned = typeof saved?.base === 'string';
  return { dataset: validation, description: finetuned ? heldOutDescription(split, selection.classes, validation.count) : split.validationDescription };
}

/**
 * The validation images a run recorded in data.json: its files, found again in the data (so images added to the
 * folder since do not move the split), or for CIFAR-10 the split made again, checked against the recorded counts.
 */
function recordedValidation(record: DataRecord, split: LoadedSplit, source: DatasetSource): ImageDataset {
  const recorded = record.validation!;
  const fix = 'Restore the data the run used, or pass --data (and --split) to evaluate on the data as it is now.';
  if (recorded.files === undefined) {
    const validation = split.validation!;
    const counts = classCounts(validation);
    const now = (name: string) => counts[validation.classNames.indexOf(name)] ?? 0;
    const differs = Object.entries(recorded.perClass).find(([name, n]) => n > 0 && now(name) !== n);
    if (differs !== undefined) {
      throw ruleError('INSIGHT_E_DATA', 'The run\'s data changed since training: its validation split no longer has the recorded images per class.',
        { data: source.data, class: differs[0], recorded: differs[1], now: now(differs[0]) }, fix);
    }
    return validation;
  }
  const from = split.method === 'val-data' ? split.validation! : split.dataset;
  const root = split.method === 'val-data' ? record.split.valData! : source.data!;
  const position = new Map((from.files ?? []).map((file, i) => [path.relative(root, file).split(path.sep).join('/'), i]));
  const missing = recorded.files.filter((file) => !position.has(file));
  if (missing.length > 0) {
    throw ruleError('INSIGHT_E_DATA', 'The run\'s validation images (recorded in its data.json) must still be readable in its data.',
      { data: root, missing: missing.length, first: missing[0] }, fix);
  }
  return subsetDataset(from, recorded.files.map((file) => position.get(file)!));
}

/** The images must have the model's input size. */
export function checkImageSize(ds: ImageDataset, inputShape: [number, number, number]): void {
  if (ds.height !== inputShape[0] || ds.width !== inputShape[1]) {
    throw ruleError('INSIGHT_E_DATA', 'Evaluation images must have the model\'s input size.',
      { images: `${ds.height}x${ds.width}`, model: `${inputShape[0]}x${inputShape[1]}` }, 'Evaluate on data like the training data.');
  }
}
