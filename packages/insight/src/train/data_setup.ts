// From config to the data a run trains on: load, limit, split off validation (or load --val-data), choose
// normalization, and build the loaders. Shared by fresh and resumed runs (a resumed run rebuilds exactly the same
// loaders). What was used goes into the run as data.json (run/dataset_source.ts recordRunData).
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, type AugmentConfig, type ImageDataset, type Normalization, type Shard } from '../data';
import { runInference } from '../eval/inference';
import { computeMetrics, type EvaluationMetrics } from '../eval/metrics';
import { PLAIN_INFERENCE, type ResolvedInference } from '../models/inference_output';
import { dataRecord, loadRunSplit, type DataRecord } from '../run/dataset_source';
import type { TrainConfig } from './config';

export interface RunData {
  train: ImageDataset;
  /** null when validationCount is 0. */
  validation: ImageDataset | null;
  /** e.g. 'validation (stratified 50 of 500 images, split seed 0)' or 'validation (last 5000 of 50000 images)'. */
  validationDescription: string;
  classNames: string[];
  normalization: Normalization;
  /** The split and the skipped files, for the run's data.json (recordRunData writes it and says its notices). */
  record: DataRecord;
}

/**
 * Loads and splits the dataset of `config`: `limit` images, of which validationCount validate (a seeded share of
 * every class for image folders, CIFAR-10's last records), or all of them train and --val-data validates.
 */
export async function prepareData(config: TrainConfig): Promise<RunData> {
  const split = await loadRunSplit(config, config);
  return {
    train: split.train,
    validation: split.validation,
    validationDescription: split.validationDescription,
    classNames: split.dataset.classNames,
    normalization: config.normalization === 'scale' ? { kind: 'scale' } : channelMeanStd(split.train),
    record: dataRecord(config, config, split, split.train, split.validation),
  };
}

/** Per-channel mean and standard deviation of the images on the [0, 1] scale. */
export function channelMeanStd(ds: ImageDataset): Normalization {
  const sum = [0, 0, 0];
  const sumSquares = [0, 0, 0];
  const { images } = ds;
  for (let i = 0; i < images.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = images[i + c];
      sum[c] += v;
      sumSquares[c] += v * v;
    }
  }
  const n = images.length / 3;
  const mean = sum.map((s) => s / n / 255) as [number, number, number];
  const std = sumSquares.map((s, c) => Math.sqrt(Math.max(s / n / 65025 - mean[c] ** 2, 1e-12))) as [number, number, number];
  return { kind: 'meanstd', mean, std };
}

/** The training augmentation of `config` in the data layer's terms. */
export function augmentOf(config: TrainConfig): AugmentConfig {
  const augment: AugmentConfig = {};
  if (config.augment.includes('crop')) augment.randomCrop = { padding: config.cropPadding };
  if (config.augment.includes('flip')) augment.horizontalFlip = true;
  if (config.augment.includes('cutout')) augment.cutout = { size: config.cutoutSize };
  return augment;
}

/**
 * The training loader (shuffled, augmented, seeded) and the validation loader (in order, plain). With `shard`
 * (data parallel) the training loader yields that rank's slice of every global batch of config.batchSize, and only
 * rank 0 validates.
 */
export function createLoaders(config: TrainConfig, data: RunData, shard?: Shard): { train: DataLoader; validation: DataLoader | null } {
  const workers = config.workers ?? undefined;
  const train = new DataLoader(data.train, {
    batchSize: config.batchSize, shuffle: true, seed: config.seed, augment: augmentOf(config),
    normalization: data.normalization, workers, shard,
  });
  const validation = data.validation === null || (shard?.rank ?? 0) !== 0 ? null : evaluationLoader(config, data.validation, data.normalization);
  return { train, validation };
}

/** A loader for evaluation: every image once, in order, normalized, not augmented. */
export function evaluationLoader(config: TrainConfig, ds: ImageDataset, normalization: Normalization): DataLoader {
  return new DataLoader(ds, {
    batchSize: Math.max(config.batchSize, 256), shuffle: false, normalization, workers: config.workers ?? undefined,
  });
}

/** Evaluation of `model` on `ds` preprocessed with `normalization` (every image once, in order), its output read as `inference` says. */
export async function evaluateOn(model: tfl.LayersModel, recipe: TrainConfig, ds: ImageDataset, normalization: Normalization, classNames: string[],
  inference: ResolvedInference = PLAIN_INFERENCE): Promise<EvaluationMetrics> {
  const loader = evaluationLoader(recipe, ds, normalization);
  try {
    return computeMetrics(await runInference(model, loader, 0, inference), classNames, [Math.min(recipe.topK, classNames.length)]);
  } finally {
    await loader.close();
  }
}
