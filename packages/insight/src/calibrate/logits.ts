// The logits temperature scaling is fitted on: one pass of a loader through the model in inference mode, through the
// inference seam (models/inference_output.ts) with temperature 1 and no test-time augmentation, so a model already
// calibrated is measured as it was before (calibrate always refits from scratch) and an ensemble (output
// 'probabilities') gives log p, exactly the "logits" the seam divides by T when it applies the fitted temperature.
// TTA, when stored, stays off here: the seam applies T to every view before averaging them, so T is a per-view fit.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { concatArrays } from '../math/concat_arrays';
import { inferenceOutputs, type ResolvedInference } from '../models/inference_output';
import { NO_TTA } from '../models/tta_settings';

export interface LabelledLogits {
  /** [count, numClasses] row-major, at temperature 1. */
  logits: Float32Array;
  /** [count] true labels, in loader order. */
  labels: Int32Array;
  numClasses: number;
}

/** `settings` as the fit needs them: the output kind kept, temperature 1, no TTA. */
export function uncalibrated(settings: ResolvedInference): ResolvedInference {
  return { ...settings, temperature: 1, tta: NO_TTA };
}

/** One pass of `loader` (shuffle: false, no augmentation): x [size, H, W, 3] → logits [size, numClasses] at T = 1. */
export async function labelledLogits(model: tfl.LayersModel, loader: DataLoader, settings: ResolvedInference): Promise<LabelledLogits> {
  const plain = uncalibrated(settings);
  const [h, w] = model.inputs[0].shape.slice(1, 3) as number[];
  const logits: Float32Array[] = [];
  const labels: Int32Array[] = [];
  let numClasses = 0;
  for await (const batch of loader.epoch(0)) {
    const out = tf.tidy(() => inferenceOutputs((x) => model.apply(x, { training: false }) as tf.Tensor2D,
      tf.tensor4d(batch.x, [batch.size, h, w, 3]), plain).logits);
    numClasses = out.shape[1];
    logits.push(await out.data() as Float32Array);
    out.dispose();
    labels.push(batch.y);
  }
  return { logits: concatArrays(logits, Float32Array), labels: concatArrays(labels, Int32Array), numClasses };
}
