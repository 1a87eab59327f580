// Shared by the quantisation tests: a seed-cnn trained briefly (seeded) on the first 2000 images of five CIFAR-10
// classes in the shared archive, with its metadata, plus the next 512 as a validation split.
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, filterClasses, loadCifar10, subsetDataset, type ImageDataset } from '../../../src/data';
import { setInsightMetadata } from '../../../src/models/metadata';
import { buildSeedCnn } from '../../../src/models/seed_cnn';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import { fit, trainableVariables } from '../../../src/train/trainer';
import { CIFAR_ARCHIVE } from '../../shared_data';

export const TRAIN_IMAGES = 2000;
export const VALIDATION_IMAGES = 512;
/** Five well-separated classes (airplane, automobile, cat, frog, ship): ~66% accuracy after 6 epochs. */
export const CLASSES = [0, 1, 3, 6, 8];

export interface TrainedCnn {
  model: tfl.LayersModel;
  train: ImageDataset;
  validation: ImageDataset;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** The data and a seed-cnn trained 6 epochs (Adam 2e-3, batch 64, seed 7); the caller disposes the model. */
export async function trainedCnn(): Promise<TrainedCnn> {
  const all = filterClasses(await loadCifar10({ path: CIFAR_ARCHIVE }), CLASSES);
  const train = subsetDataset(all, range(0, TRAIN_IMAGES));
  const validation = subsetDataset(all, range(TRAIN_IMAGES, VALIDATION_IMAGES));
  const model = buildSeedCnn({ inputShape: [32, 32, 3], numClasses: all.classNames.length, dropout: 0, seed: 7 });
  setInsightMetadata(model, {
    formatVersion: 1, architecture: 'seed-cnn', architectureOptions: {}, inputShape: [32, 32, 3], classNames: all.classNames,
    normalization: { kind: 'scale' },
  });
  const loader = new DataLoader(train, { batchSize: 64, seed: 7, workers: 0 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  await fit(model, loader, { epochs: 6, optimizer, schedule: new ConstantSchedule(2e-3), seed: 7 });
  optimizer.dispose();
  await loader.close();
  return { model, train, validation };
}

/** Validation batches in order, normalised as the model expects. */
export function validationLoader(data: TrainedCnn, batchSize = 128): DataLoader {
  return new DataLoader(data.validation, { batchSize, shuffle: false, workers: 0 });
}
