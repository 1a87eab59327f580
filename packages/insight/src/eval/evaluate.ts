// `evaluate(config)`: a saved model on a dataset split — loss, accuracy, top-k, per-class precision/recall/F1
// and the confusion matrix — optionally written as a report directory. Given a run directory (train or finetune),
// it defaults to the run's own data and validation images (those recorded in its data.json, else the run's split
// made again from its config), so `insight evaluate runs/<id>` reproduces the run's report. The data may hold a
// subset of the model's classes: labels are matched to the model's classes by name.
import * as path from 'node:path';

import { DataLoader, type ImageDataset } from '../data';
import { classCounts, relabelByName, subsetDataset } from '../data/dataset';
import { ruleError } from '../errors';
import { resolveInference } from '../models/inference_output';
import { getInsightMetadata } from '../models/metadata';
import { parseTta } from '../models/tta_settings';
import { startBackend } from '../run/backend_choice';
import {
  DEFAULT_SPLIT, heldOutDescription, loadDataset, loadRunSplit, readDataRecord, runSelection, runSplitSettings, selectedImages, type DataRecord,
  type DatasetSource, type LoadedSplit,
} from '../run/dataset_source';
import { loadModel, resolveModelDir } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import { resolveEvaluateConfig, type EvaluateConfig } from './config';
import { runInference } from './inference';
import { computeMetrics, type EvaluationMetrics } from './metrics';
import { writeReport } from './report';

export interface EvaluateResult {
  metrics: EvaluationMetrics;
  /** What was evaluated, e.g. 'validation (stratified 50 of 500 images, split seed 0)'. */
  split: string;
  modelDir: string;
  /** The report directory, when `out` was given. */
  reportDir: string | null;
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
    // The model's inference settings (output kind, temperature, TTA), --tta overriding the stored TTA.
    const inference = resolveInference(meta, modelDir, config.tta === null ? null : parseTta(config.tta));
    const run = config.data === null ? RunDir.ofModelDir(modelDir) : null;
    const selected = await selectSplit(config, meta.inputShape, run);
    checkSize(selected.dataset, meta.inputShape);
    const dataset = relabelByName(selected.dataset, meta.classNames);
    const present = new Set(dataset.labels).size;
    const description = present < meta.classNames.length
      ? `${selected.description}, ${present} of the model's ${meta.classNames.length} classes` : selected.description;
    const loader = new DataLoader(dataset, {
      batchSize: config.batchSize, shuffle: false, normalization: meta.normalization, workers: config.workers ?? undefined,
    });
    let metrics: EvaluationMetrics;
    try {
      metrics = computeMetrics(await runInference(model, loader, 0, inference), meta.classNames, [config.topK]);
    } finally {
      await loader.close();
    }
    if (config.out !== null) await writeReport(config.out, metrics, { split: description, model: modelDir });
    return { metrics, split: description, modelDir, reportDir: config.out };
  } finally {
    model.dispose();
  }
}

/**
 * The images to evaluate. With --data: that dataset, split with the given settings (or their defaults). Without,
 * for a run: the run's data, limit, split and (fine-tuning) classes; for a bare model directory: CIFAR-10 from the cache.
 */
async function selectSplit(config: EvaluateConfig, inputShape: [number, number, number], run: RunDir | null): Promise<{ dataset: ImageDataset; description: string }> {
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
function checkSize(ds: ImageDataset, inputShape: [number, number, number]): void {
  if (ds.height !== inputShape[0] || ds.width !== inputShape[1]) {
    throw ruleError('INSIGHT_E_DATA', 'Evaluation images must have the model\'s input size.',
      { images: `${ds.height}x${ds.width}`, model: `${inputShape[0]}x${inputShape[1]}` }, 'Evaluate on data like the training data.');
  }
}
