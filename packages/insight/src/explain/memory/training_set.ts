// The training images of a run, found again from its config.json as `insight train` chose them (run/dataset_source:
// the same data source, --limit and validation split, run/dataset_source.ts splitForRun), so that the memory's
// neighbours are images the model was trained on. Positions are into the loaded dataset: the training part is its
// first images (validation is the last validationCount of the first `limit`).
import type { ImageDataset } from '../../data';
import { ruleError } from '../../errors';
import { loadDataset, splitForRun, type DatasetSource } from '../../run/dataset_source';
import type { RunDir } from '../../run/run_dir';
import { memoryRun } from './store';

export interface RunTrainingSet {
  dataset: ImageDataset;
  /** What memory.json records about it: data, dataset kind, image size, limit, validation count, split. */
  source: Record<string, unknown>;
}

/** Loads the training split of the training run in `run` (a RunDir or its path). */
export async function runTrainingSet(run: RunDir | string): Promise<RunTrainingSet> {
  const runDir = memoryRun(run);
  const config = runDir.readConfig() as Record<string, unknown>;
  if (typeof config.base === 'string') {
    throw ruleError('INSIGHT_E_CONFIG', 'The training images of a fine-tuning run cannot be found again from its config here.',
      { run: runDir.dir, base: config.base }, 'Pass the images to memoryIndexFor yourself (e.g. those fine-tuning trained on).');
  }
  const source: DatasetSource = {
    data: typeof config.data === 'string' ? config.data : null,
    dataset: (config.dataset as DatasetSource['dataset'] | undefined) ?? 'auto',
    imageSize: typeof config.imageSize === 'number' ? config.imageSize : 32,
  };
  const limit = typeof config.limit === 'number' ? config.limit : null;
  const validationCount = typeof config.validationCount === 'number' ? config.validationCount : null;
  const split = splitForRun(await loadDataset(source, 'train'), limit, validationCount);
  return {
    dataset: split.train,
    source: { ...source, limit, validationCount, split: `train (first ${split.train.count} of ${split.total} images)` },
  };
}
