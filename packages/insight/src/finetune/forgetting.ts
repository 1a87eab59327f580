// Forgetting: how much of the base task the fine-tuned feature extractor still knows. The base's original head
// is kept on the (fine-tuned) features — FinetuneModel.original — and its accuracy on the base task's held-out
// images is measured before fine-tuning (the base itself) and after.
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, type ImageDataset, type Normalization } from '../data';
import { argmaxRows } from '../math/top_k';
import { runInference } from '../eval/inference';
import { accuracy } from '../eval/metrics';

export interface ForgettingReport {
  /** Base-task images evaluated. */
  count: number;
  /** Accuracy of the base (original head) before fine-tuning. */
  before: number;
  /** Accuracy of the fine-tuned feature extractor with the original head. */
  after: number;
  /** before − after (positive = forgotten). */
  drop: number;
}

/** Accuracy of `model` (image → base logits) on `ds` (labels in the base's classes), in inference mode. */
export async function baseTaskAccuracy(model: tfl.LayersModel, ds: ImageDataset, normalization: Normalization, workers?: number): Promise<number> {
  const loader = new DataLoader(ds, { batchSize: 256, shuffle: false, normalization, workers });
  try {
    const result = await runInference(model, loader);
    return accuracy(result.labels, argmaxRows(result.probabilities, result.numClasses));
  } finally {
    await loader.close();
  }
}

export function forgettingReport(count: number, before: number, after: number): ForgettingReport {
  return { count, before, after, drop: before - after };
}
