// Runs a model over every batch of a loader in inference mode and gathers what the metrics need.
import type * as tfl from '@tensorflow/tfjs-layers';

import { captureFunction } from '@insight/tfjs-backend-torch';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { concatArrays } from '../math/concat_arrays';
import { inferenceOutputs, PLAIN_INFERENCE, type ResolvedInference } from '../models/inference_output';
import { sparseCategoricalCrossentropyPerExample } from '../models/loss';

/** Everything evaluation needs from one pass over a dataset. */
export interface InferenceResult {
  count: number;
  numClasses: number;
  /** [count] true labels, in loader order. */
  labels: Int32Array;
  /** [count, numClasses] the reported probabilities (softmax of the logits unless `settings` say otherwise), row-major. */
  probabilities: Float32Array;
  /** Mean cross-entropy (no label smoothing): the mean NLL of the reported probabilities. */
  loss: number;
}

/**
 * One pass of `loader` (use shuffle: false and no augmentation) through `model` with training: false.
 * loader batches: x [size, H, W, 3] → model output [size, numClasses] → the reported logits and probabilities as
 * `settings` say (models/inference_output.ts: output kind, temperature, TTA views in one batched pass); the
 * default is the plain softmax of the logits. The loss is the cross-entropy of the reported logits, whose softmax
 * is the reported probabilities, so it is their NLL in every case.
 */
export async function runInference(model: tfl.LayersModel, loader: DataLoader, epochIndex = 0,
  settings: ResolvedInference = PLAIN_INFERENCE): Promise<InferenceResult> {
  const labels: Int32Array[] = [];
  const probabilities: Float32Array[] = [];
  let lossSum = 0;
  let count = 0;
  let numClasses = 0;
  const [h, w] = model.inputs[0].shape.slice(1, 3) as number[];
  // Replayed natively after two eager batches of each size (tfjs-backend-torch's captureFunction).
  const pass = captureFunction((x: tf.Tensor, y: tf.Tensor) => {
    const { logits, probabilities } = inferenceOutputs((input) => model.apply(input, { training: false }) as tf.Tensor2D, x as tf.Tensor4D, settings);
    return [probabilities, tf.sum(sparseCategoricalCrossentropyPerExample(y as tf.Tensor1D, logits))];
  });
  try {
    for await (const batch of loader.epoch(epochIndex)) {
      const [probs, losses] = tf.tidy(() => pass(tf.tensor4d(batch.x, [batch.size, h, w, 3]), tf.tensor1d(batch.y, 'int32')));
      const [probValues, lossValue] = await Promise.all([probs.data() as Promise<Float32Array>, losses.data()]);
      tf.dispose([probs, losses]);
      numClasses = probs.shape[1]!;
      probabilities.push(probValues);
      labels.push(batch.y);
      lossSum += lossValue[0];
      count += batch.size;
    }
  } finally {
    pass.dispose();
  }
  return {
    count,
    numClasses,
    labels: concatArrays(labels, Int32Array),
    probabilities: concatArrays(probabilities, Float32Array),
    loss: count === 0 ? NaN : lossSum / count,
  };
}
