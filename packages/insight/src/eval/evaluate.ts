// `evaluate(config)`: a saved model on a dataset split — loss, accuracy, top-k, per-class precision/recall/F1
// and the confusion matrix — optionally written as a report directory. Given a run directory (train or finetune),
// it defaults to the run's own data and validation images (those recorded in its data.json, else the run's split
// made again from its config), so `insight evaluate runs/<id>` reproduces the run's report. The data may hold a
// subset of the model's classes: labels are matched to the model's classes by name.
import { DataLoader } from '../data';
import { relabelByName } from '../data/dataset';
import { isPlainInference, resolveInference, type ResolvedInference } from '../models/inference_output';
import { getInsightMetadata } from '../models/metadata';
import { parseTta } from '../models/tta_settings';
import { startBackend } from '../run/backend_choice';
import { checkImageSize, selectEvaluationSplit } from '../run/evaluation_split';
import { loadModel, resolveModelDir } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import { robustAccuracy } from '../robust/attacks/robust_accuracy';
import { attackSpecOf, resolveEvaluateConfig, type EvaluateInput } from './config';
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
  /** How the model's output became the probabilities: its metadata's settings, --tta overriding the TTA. */
  inference: ResolvedInference;
}

/**
 * Example: `const { metrics } = await evaluate({ model: 'runs/x', split: 'validation', out: 'runs/x/eval' })`.
 */
export async function evaluate(input: EvaluateInput): Promise<EvaluateResult> {
  const config = resolveEvaluateConfig(input);
  await startBackend(config.backend);
  const modelDir = resolveModelDir(config.model);
  const model = await loadModel(modelDir);
  try {
    const meta = getInsightMetadata(model, modelDir);
    // The model's inference settings (output kind, temperature, TTA), --tta overriding the stored TTA.
    const inference = resolveInference(meta, modelDir, config.tta === null ? null : parseTta(config.tta));
    const run = config.data === null ? RunDir.ofModelDir(modelDir) : null;
    const selected = await selectEvaluationSplit(config, meta.inputShape, run);
    checkImageSize(selected.dataset, meta.inputShape);
    const dataset = relabelByName(selected.dataset, meta.classNames);
    const present = new Set(dataset.labels).size;
    const description = present < meta.classNames.length
      ? `${selected.description}, ${present} of the model's ${meta.classNames.length} classes` : selected.description;
    const loader = new DataLoader(dataset, {
      batchSize: config.batchSize, shuffle: false, normalization: meta.normalization, workers: config.workers ?? undefined,
    });
    let metrics: EvaluationMetrics;
    try {
      metrics = computeMetrics(await runInference(model, loader, 0, inference), meta.classNames, [config.topK], config.bins);
      const spec = attackSpecOf(config);
      // The attack differentiates the model's own output (an ensemble's probabilities through their log); TTA and
      // temperature stay out of it (temperature does not change a prediction).
      if (spec !== null) metrics.robust = await robustAccuracy(model, loader, { ...spec, output: inference.output }, meta.normalization, config.attackLimit);
    } finally {
      await loader.close();
    }
    if (config.out !== null) {
      await writeReport(config.out, metrics, { split: description, model: modelDir, ...(isPlainInference(inference) ? {} : { inference }) });
    }
    return { metrics, split: description, modelDir, reportDir: config.out, inference };
  } finally {
    model.dispose();
  }
}
