// `evaluate(config)`: a saved model on a dataset split — loss, accuracy, top-k, per-class precision/recall/F1
// and the confusion matrix — optionally written as a report directory. Given a run directory, it defaults to
// the run's own data and validation split, so `insight evaluate runs/<id>` reproduces the run's report.
import * as path from 'node:path';

import { DataLoader, type ImageDataset } from '../data';
import { ruleError } from '../errors';
import { getInsightMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { loadDataset, splitForRun, type DatasetSource } from '../run/dataset_source';
import { loadModel, resolveModelDir } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import { resolveEvaluateConfig, type EvaluateConfig } from './config';
import { runInference } from './inference';
import { computeMetrics, type EvaluationMetrics } from './metrics';
import { writeReport } from './report';

export interface EvaluateResult {
  metrics: EvaluationMetrics;
  /** What was evaluated, e.g. 'validation (last 5000 of 50000 images)'. */
  split: string;
  modelDir: string;
  /** The report directory, when `out` was given. */
  reportDir: string | null;
}

/** The settings of the run that produced `modelDir`, when it is (inside) a run directory. */
function runConfigOf(modelDir: string): Record<string, unknown> | null {
  for (const dir of [path.dirname(modelDir), path.dirname(path.dirname(modelDir))]) {
    const run = RunDir.tryOpen(dir);
    if (run !== null) return run.readConfig() as Record<string, unknown>;
  }
  return null;
}

/**
 * Example: `const { metrics } = await evaluate({ model: 'runs/x', split: 'validation', out: 'runs/x/eval' })`.
 */
export async function evaluate(input: Partial<EvaluateConfig> & { model: string }): Promise<EvaluateResult> {
  const config = resolveEvaluateConfig(input);
  await startBackend(config.backend);
  const modelDir = resolveModelDir(config.model);
  const model = await loadModel(modelDir);
  try {
    const meta = getInsightMetadata(model, modelDir);
    const run = runConfigOf(modelDir) ?? {};
    const source: DatasetSource = config.data !== null
      ? { data: config.data, dataset: config.dataset, imageSize: meta.inputShape[0] }
      : { data: (run.data as string | null) ?? null, dataset: (run.dataset as DatasetSource['dataset']) ?? 'auto', imageSize: meta.inputShape[0] };
    const { dataset, description } = await selectSplit(config, source, run);
    checkCompatible(dataset, meta.inputShape, meta.classNames, modelDir);
    const loader = new DataLoader(dataset, {
      batchSize: config.batchSize, shuffle: false, normalization: meta.normalization, workers: config.workers ?? undefined,
    });
    let metrics: EvaluationMetrics;
    try {
      metrics = computeMetrics(await runInference(model, loader), meta.classNames, [config.topK]);
    } finally {
      await loader.close();
    }
    if (config.out !== null) await writeReport(config.out, metrics, { split: description, model: modelDir });
    return { metrics, split: description, modelDir, reportDir: config.out };
  } finally {
    model.dispose();
  }
}

async function selectSplit(config: EvaluateConfig, source: DatasetSource, run: Record<string, unknown>): Promise<{ dataset: ImageDataset; description: string }> {
  if (config.split === 'test') {
    const ds = await loadDataset(source, 'test');
    return { dataset: ds, description: `test (${ds.count} images)` };
  }
  const ds = await loadDataset(source, 'train');
  if (config.split === 'all') return { dataset: ds, description: `all (${ds.count} images)` };
  // Without --data, the split is the run's own: same limit and validation count as in training.
  const fromRun = config.data === null;
  const limit = config.limit ?? (fromRun ? (run.limit as number | null) ?? null : null);
  const validationCount = config.validationCount ?? (fromRun ? (run.validationCount as number | null) ?? null : null);
  const split = splitForRun(ds, limit, validationCount);
  if (config.split === 'train') return { dataset: split.train, description: `train (first ${split.train.count} of ${split.total} images)` };
  if (split.validation === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'The validation split is empty for this run (validationCount 0).', { split: 'validation' },
      'Pass --split train, --split all or --validation-count <n>.');
  }
  return { dataset: split.validation, description: split.validationDescription };
}

/** The images must have the model's input size and the classes must be the model's classes. */
function checkCompatible(ds: ImageDataset, inputShape: [number, number, number], classNames: string[], modelDir: string): void {
  if (ds.height !== inputShape[0] || ds.width !== inputShape[1]) {
    throw ruleError('INSIGHT_E_DATA', 'Evaluation images must have the model\'s input size.',
      { images: `${ds.height}x${ds.width}`, model: `${inputShape[0]}x${inputShape[1]}` }, 'Evaluate on data like the training data.');
  }
  if (ds.classNames.length !== classNames.length || ds.classNames.some((name, i) => name !== classNames[i])) {
    throw ruleError('INSIGHT_E_DATA', 'The dataset\'s classes must be the model\'s classes, in the same order.',
      { datasetClasses: ds.classNames, modelClasses: classNames, model: modelDir },
      'Evaluate on a dataset with the same classes (for image folders: the same subfolder names).');
  }
}
