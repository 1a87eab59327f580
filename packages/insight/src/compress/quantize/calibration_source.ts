// The images calibration runs: the first N of a DataLoader's epoch 0 (the caller's order and normalisation), or N
// images of a dataset drawn with a seed and normalised as the model's metadata says. Both give the same batches
// every time they are read, which calibration relies on (it reads them twice: ranges first, then histograms).
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, subsetDataset, type Batch, type ImageDataset, type Normalization } from '../../data';
import { permutation, streamRng } from '../../data/random';
import { ruleError } from '../../errors';
import { getInsightMetadata } from '../../models/metadata';

/** A DataLoader (its epoch 0, as it batches and normalises) or an ImageDataset (sampled and normalised here). */
export type CalibrationSource = DataLoader | ImageDataset;

export interface CalibrationBatchesOptions {
  /** How many images (the first of the loader's epoch 0, or a seeded sample of the dataset). */
  images: number;
  /** Picks the dataset's sample (default 0); a DataLoader carries its own seed. */
  seed?: number;
  /** Images per forward pass for a dataset source (default 32). */
  batchSize?: number;
  /** Overrides the model's metadata normalisation for a dataset source. */
  normalization?: Normalization;
}

/** A re-readable sequence of normalised batches (x: [size, H, W, 3] float32) of exactly `images` images in all. */
export interface CalibrationBatches {
  images: number;
  read(): AsyncIterable<Batch>;
  close(): Promise<void>;
}

/** The calibration batches of `source` for `model` (whose metadata gives a dataset's normalisation). */
export function calibrationBatches(model: tfl.LayersModel, source: CalibrationSource, options: CalibrationBatchesOptions): CalibrationBatches {
  const { images } = options;
  const available = source instanceof DataLoader ? Infinity : source.count;
  if (!Number.isInteger(images) || images < 1 || images > available) {
    throw ruleError('INSIGHT_E_CONFIG', 'Calibration needs a whole number of images, at least 1 and at most the source holds.',
      { images, available: source instanceof DataLoader ? 'a DataLoader' : available }, 'Pass e.g. images: 512.');
  }
  if (source instanceof DataLoader) return { images, read: () => firstImages(source, images), close: async () => undefined };
  const normalization = options.normalization ?? getInsightMetadata(model, model.name).normalization;
  const order = permutation(source.count, streamRng(options.seed ?? 0, 'calibration')).slice(0, images);
  const loader = new DataLoader(subsetDataset(source, order), { batchSize: options.batchSize ?? 32, shuffle: false, normalization, workers: 0 });
  return { images, read: () => firstImages(loader, images), close: () => loader.close() };
}

/** The batches of loader's epoch 0 up to `images` images (the last one cut); throws if the epoch holds fewer. */
async function* firstImages(loader: DataLoader, images: number): AsyncIterable<Batch> {
  let taken = 0;
  for await (const batch of loader.epoch(0)) {
    const size = Math.min(batch.size, images - taken);
    const perImage = batch.x.length / batch.size;
    yield size === batch.size ? batch : { x: batch.x.subarray(0, size * perImage), y: batch.y.subarray(0, size), size };
    taken += size;
    if (taken === images) return;
  }
  throw ruleError('INSIGHT_E_CONFIG', 'Calibration needs at most as many images as the loader gives in an epoch.',
    { images, epochImages: taken }, `Pass images: ${taken} or fewer, or a larger dataset.`);
}
