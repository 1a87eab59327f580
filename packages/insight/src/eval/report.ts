// report/ of a run (or any directory): metrics.json, confusion.png, per_class.txt, confusion.txt and reliability.png
// (the reliability diagram of the ECE: calibrate/) (names: REPORT_FILES in run/run_dir.ts), written as one atomic directory.
import { reliabilityPng } from '../calibrate/reliability_png';
import { writeDirAtomic } from '../run/atomic';
import { REPORT_FILES } from '../run/run_dir';
import { confusionPng, confusionTitle } from './confusion_png';
import type { ResolvedInference } from '../models/inference_output';
import type { EvaluationMetrics } from './metrics';
import { formatConfusionTable, formatPerClassTable } from './text_report';

export interface ReportInfo {
  /** Which data was evaluated, e.g. 'validation (last 5000 training images)'. */
  split: string;
  /** The model evaluated (directory or run). */
  model: string;
  /** How its output became the probabilities (models/inference_output.ts); absent: the softmax of its logits. */
  inference?: ResolvedInference;
}

/** Writes the report directory `dir` (replacing an older one) and returns the per-class text. */
export async function writeReport(dir: string, metrics: EvaluationMetrics, info: ReportInfo): Promise<void> {
  const [png, reliability] = await Promise.all([
    confusionPng(metrics.confusion, metrics.classNames, confusionTitle(info.split, metrics.count)),
    metrics.calibration ? reliabilityPng(metrics.calibration, info.split) : null,
  ]);
  writeDirAtomic(dir, {
    [REPORT_FILES.metrics]: `${JSON.stringify({ ...info, ...metrics }, null, 2)}\n`,
    [REPORT_FILES.confusionPng]: png,
    [REPORT_FILES.perClassTxt]: `${formatPerClassTable(metrics)}\n`,
    [REPORT_FILES.confusionTxt]: `${formatConfusionTable(metrics)}\n`,
    ...(reliability ? { [REPORT_FILES.reliabilityPng]: reliability } : {}),
  });
}
