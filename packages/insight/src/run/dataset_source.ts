// Turns the `data` / `dataset` / `imageSize` settings of a config into an ImageDataset. The data layer's errors
// carry their codes; other failures to read the data become INSIGHT_E_DATA.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadCifar10, loadImageFolder, splitTrainValidation, subsetDataset, type ImageDataset } from '../data';
import { InsightError, ruleError } from '../errors';
import type { DatasetKind } from './config_fields';

export interface DatasetSource {
  /** Archive or folder; null = CIFAR-10 from the cache. */
  data: string | null;
  dataset: DatasetKind;
  /** Image folders are resized to imageSize x imageSize. */
  imageSize: number;
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
 * asking one for 'test' is an error.
 */
export async function loadDataset(source: DatasetSource, split: 'train' | 'test' = 'train'): Promise<ImageDataset> {
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
    return await loadImageFolder(source.data, { height: source.imageSize, width: source.imageSize });
  } catch (error) {
    if (error instanceof InsightError) throw error;
    const err = error as NodeJS.ErrnoException;
    throw ruleError('INSIGHT_E_DATA', 'The dataset must be readable.', { data: source.data, error: err.message ?? String(error) },
      'Check the path and its permissions.');
  }
}

/** The images a run trains and validates on. */
export interface RunSplit {
  train: ImageDataset;
  /** null when validationCount is 0. */
  validation: ImageDataset | null;
  /** Images after --limit. */
  total: number;
  /** e.g. 'validation (last 5000 of 50000 images)'. */
  validationDescription: string;
}

/**
 * A run's split of `ds`: its first `limit` images (all when null), of which the last `validationCount`
 * (default 10%, i.e. 5,000 of CIFAR-10's 50,000) validate. `insight evaluate` uses it to find a run's split again.
 */
export function splitForRun(ds: ImageDataset, limit: number | null, validationCount: number | null): RunSplit {
  const limited = limit !== null && limit < ds.count ? subsetDataset(ds, Array.from({ length: limit }, (_, i) => i)) : ds;
  const count = validationCount ?? Math.round(limited.count * 0.1);
  if (count >= limited.count) {
    throw ruleError('INSIGHT_E_DATA', 'validationCount must leave at least one training image.',
      { validationCount: count, images: limited.count }, 'Lower --validation-count, or use more images (--limit).');
  }
  if (count === 0) {
    return { train: limited, validation: null, total: limited.count, validationDescription: `training set (${limited.count} images, no validation split)` };
  }
  const { train, validation } = splitTrainValidation(limited, { validationCount: count, shuffle: false });
  return { train, validation, total: limited.count, validationDescription: `validation (last ${count} of ${limited.count} images)` };
}
