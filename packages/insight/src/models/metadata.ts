// The self-describing part of a saved model: what `predict`, `evaluate` and `serve` need besides the weights.
// It lives in model.json's `userDefinedMetadata.insight`, which plain TensorFlow.js loads and ignores.
import type { LayersModel } from '@tensorflow/tfjs-layers';

import type { Normalization } from '../data';
import { InsightError } from '../errors';

/** `model.json` → `userDefinedMetadata.insight`. */
export interface InsightModelMetadata {
  /** Bumped when the metadata layout changes incompatibly. */
  formatVersion: 1;
  /** Zoo name the model was built with, e.g. 'seed-cnn'. */
  architecture: string;
  /** The architecture options it was built with (depth, width, dropout ...). */
  architectureOptions: Record<string, number | string | boolean>;
  /** [height, width, channels] of one input image. */
  inputShape: [number, number, number];
  /** Class index → name; length = number of logits. */
  classNames: string[];
  /** How uint8 RGB pixels become the model's float input. */
  normalization: Normalization;
}

export function setInsightMetadata(model: LayersModel, metadata: InsightModelMetadata): void {
  model.setUserDefinedMetadata({ insight: metadata as unknown as object });
}

/** Reads the metadata back; `source` names the model in the error (a directory, usually). */
export function getInsightMetadata(model: LayersModel, source: string): InsightModelMetadata {
  const meta = (model.getUserDefinedMetadata() as { insight?: InsightModelMetadata } | undefined)?.insight;
  if (meta == null || meta.formatVersion !== 1 || !Array.isArray(meta.classNames) || !Array.isArray(meta.inputShape)) {
    throw new InsightError('INSIGHT_E_MODEL',
      'A model must carry Insight metadata (input shape, class names, normalization) in model.json\'s ' +
      `userDefinedMetadata.insight. Received: model=${JSON.stringify(source)}, insight=${JSON.stringify(meta ?? null)}. ` +
      'Use a model saved by `insight train` (runs/<run-id>/model), or set the metadata with setInsightMetadata().');
  }
  return meta;
}
