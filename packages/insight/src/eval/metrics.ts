// All evaluation metrics of one pass, in one JSON-ready object (report/metrics.json).
import { DEFAULT_CALIBRATION_BINS } from '../calibrate/config';
import { calibrationOf, type Calibration } from '../calibrate/ece';
import { argmaxRows, topKAccuracy } from '../math/top_k';
import type { RobustMetrics } from '../robust/attacks/robust_accuracy';
import { confusionMatrix } from './confusion_matrix';
import type { InferenceResult } from './inference';
import { macroAverage, perClassMetrics, type ClassMetrics } from './per_class';

export interface EvaluationMetrics {
  count: number;
  loss: number;
  accuracy: number;
  /** k → top-k accuracy, e.g. { '5': 0.97 }. */
  topK: Record<string, number>;
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  classNames: string[];
  /** [true][predicted] counts. */
  confusion: number[][];
  /**
   * Expected and maximum calibration error of the top-1 confidence, with the bins of the reliability diagram (absent
   * from a report with no examples and from metrics.json files written before it existed).
   */
  calibration?: Calibration;
  /** Robust accuracy under an attack (evaluate --attack), with the attack's settings; absent without one. */
  robust?: RobustMetrics;
}

/** Fraction of positions where predicted equals labels (NaN when empty). */
export function accuracy(labels: Int32Array, predicted: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) correct++;
  return labels.length === 0 ? NaN : correct / labels.length;
}

/** Metrics of an inference pass; topK lists the k values to report (each <= numClasses); ECE over `bins` confidence bins. */
export function computeMetrics(result: InferenceResult, classNames: string[], topK: number[], bins = DEFAULT_CALIBRATION_BINS): EvaluationMetrics {
  const predicted = argmaxRows(result.probabilities, result.numClasses);
  const confusion = confusionMatrix(result.labels, predicted, result.numClasses);
  const perClass = perClassMetrics(confusion, classNames);
  return {
    count: result.count,
    loss: result.loss,
    accuracy: accuracy(result.labels, predicted),
    topK: Object.fromEntries(topK.filter((k) => k <= result.numClasses)
      .map((k) => [String(k), topKAccuracy(result.probabilities, result.labels, result.numClasses, k)])),
    perClass,
    macro: macroAverage(perClass),
    classNames,
    confusion,
    calibration: calibrationOf(result.probabilities, result.labels, result.numClasses, bins),
  };
}
