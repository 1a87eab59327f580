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
  /** What the model was trained on, for drift monitoring when served (absent in models saved before it existed). */
  trainingDistribution?: TrainingDistribution;
  /** How the output becomes class probabilities in evaluate, predict and serve (absent: softmax of logits, T = 1, no TTA). */
  inference?: InferenceSettings;
  /** A model built by `insight ensemble` (ensemble/): what it averages. Its output is then probabilities. */
  ensemble?: EnsembleRecord;
}

/** The members of an ensemble model, in the order of its graph (member i's layers are named m<i>_<layer>). */
export interface EnsembleRecord {
  /** 'members': run or model directories; 'snapshots': per-epoch snapshots of one run. */
  kind: 'members' | 'snapshots';
  members: EnsembleMemberRecord[];
}

export interface EnsembleMemberRecord {
  /** The member's model directory as it was given (resolved from a run directory). */
  path: string;
  /** Its share of the average probabilities (the weights sum to 1). */
  weight: number;
  /** sha256 (hex) of its weights (dtype, shape and bytes of each, in order): which model it was. */
  fingerprint: string;
  architecture: string;
  /** The softmax temperature applied to its logits (its calibration; 1 = none). */
  temperature: number;
  /** Snapshot ensembles: the epoch the snapshot was taken after. */
  epoch?: number;
}

/**
 * What evaluate, predict and serve do between the model's output and the probabilities they report
 * (models/inference_output.ts applies it; flags such as `--tta` override it per command).
 */
export interface InferenceSettings {
  /** 'logits' (default): the output is logits, probabilities are their softmax; 'probabilities': the output already is (an ensemble). */
  output?: 'logits' | 'probabilities';
  /** Temperature scaling fitted on validation data (calibrate/): probabilities = softmax(logits / temperature); 1 = none. */
  temperature?: number;
  /** Test-time augmentation: probabilities averaged over the image and its horizontal flip and/or ±shift-pixel translations. */
  tta?: TtaSettings;
}

/** Test-time augmentation views (models/tta.ts): the original is always one of them. */
export interface TtaSettings {
  /** Add the horizontal mirror of every view. */
  flip: boolean;
  /** Pixels of the translations added (0 = none). */
  shift: number;
}

/** The training set as the model saw it: per-channel mean/std of its input (after normalization), class frequencies. */
export interface TrainingDistribution {
  /** Training images it was computed on. */
  images: number;
  /** [channels]: mean and standard deviation of the normalized input values, over every pixel of every image. */
  channelMean: number[];
  channelStd: number[];
  /** [numClasses]: share of the training labels in each class (sums to 1). */
  classFrequencies: number[];
}

/**
 * The TrainingDistribution of interleaved RGB uint8 `images` with `labels` under `normalization` (normalization is
 * affine per channel, so the normalized mean/std follow from the raw ones). Runs once, at the end of training.
 */
export function trainingDistributionOf(images: Uint8Array, labels: Int32Array, numClasses: number, normalization: Normalization): TrainingDistribution {
  const sum = [0, 0, 0];
  const sumSquares = [0, 0, 0];
  for (let i = 0; i < images.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = images[i + c] / 255;
      sum[c] += v;
      sumSquares[c] += v * v;
    }
  }
  const pixels = Math.max(1, images.length / 3);
  const rawMean = sum.map((s) => s / pixels);
  const rawStd = sumSquares.map((s, c) => Math.sqrt(Math.max(s / pixels - rawMean[c] ** 2, 0)));
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) if (label >= 0 && label < numClasses) counts[label]++;
  const total = Math.max(1, labels.length);
  return {
    images: labels.length,
    channelMean: rawMean.map((m, c) => (normalization.kind === 'scale' ? m : (m - normalization.mean[c]) / normalization.std[c])),
    channelStd: rawStd.map((s, c) => (normalization.kind === 'scale' ? s : s / normalization.std[c])),
    classFrequencies: counts.map((n) => n / total),
  };
}

/** Adds `distribution` to the Insight metadata `model` already carries (a model without it is left alone). */
export function recordTrainingDistribution(model: LayersModel, distribution: TrainingDistribution): void {
  const meta = (model.getUserDefinedMetadata() as { insight?: InsightModelMetadata } | undefined)?.insight;
  if (meta !== undefined) setInsightMetadata(model, { ...meta, trainingDistribution: distribution });
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
