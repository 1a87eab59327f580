// Shared by the quantisation tests: a seed-cnn trained briefly (seeded) on the first 2000 CIFAR-10 images of the shared
// archive, with its metadata, plus the next 512 images as a validation split. Loaded once per test file.
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, loadCifar10, subsetDataset, type ImageDataset } from '../../../src/data';
import { setInsightMetadata } from '../../../src/models/metadata';
import { buildSeedCnn } from '../../../src/models/seed_cnn';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import { fit, trainableVariables } from '../../../src/train/trainer';
import { CIFAR_ARCHIVE } from '../../shared_data';

export const TRAIN_IMAGES = 2000;
export const VALIDATION_IMAGES = 512;

export interface TrainedCnn {
  model: tfl.LayersModel;
  train: ImageDataset;
  validation: ImageDataset;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** The data and a seed-cnn trained 2 epochs (Adam 1e-3, batch 64, seed 7); the caller disposes the model. */
export async function trainedCnn(): Promise<TrainedCnn> {
  const all = await loadCifar10({ path: CIFAR_ARCHIVE });
  const train = subsetDataset(all, range(0, TRAIN_IMAGES));
  const validation = subsetDataset(all, range(TRAIN_IMAGES, VALIDATION_IMAGES));
  const model = buildSeedCnn({ inputShape: [32, 32, 3], numClasses: 10, dropout: 0, seed: 7 });
  setInsightMetadata(model, {
    formatVersion: 1, architecture: 'seed-cnn', architectureOptions: {}, inputShape: [32, 32, 3], classNames: all.classNames,
    normalization: { kind: 'scale' },
  });
  const loader = new DataLoader(train, { batchSize: 64, seed: 7, workers: 0 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  await fit(model, loader, { epochs: 2, optimizer, schedule: new ConstantSchedule(1e-3), seed: 7 });
  optimizer.dispose();
  await loader.close();
  return { model, train, validation };
}

/** Validation batches in order, normalised as the model expects. */
export function validationLoader(data: TrainedCnn, batchSize = 128): DataLoader {
  return new DataLoader(data.validation, { batchSize, shuffle: false, workers: 0 });
}
