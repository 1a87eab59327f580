// What the gradient methods (saliency, Integrated Gradients, the SmoothGrad family) and occlusion evaluate: the
// target class's score, i.e. the model's output (pre-softmax logits for Insight models) at one target per row,
// its gradient with respect to the input rows, and the row chunks that keep each pass within internalBatchSize rows.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { withInferenceLayers } from '../../models/inference_layers';
import { capturedPass } from '../captured_passes';

/**
 * scores [rows]: model(x)[r, targets[r]] for x [rows, H, W, C] and targets int32 [rows]. The model runs in
 * inference mode (BatchNorm on its moving statistics, Dropout off), so each row's score depends on that row only.
 * The layers run on inference ops (BatchNorm and ReLU folded into convolutions: models/inference_layers.ts). Not
 * wrapped in tidy: callers tidy (and tf.grad traces through it).
 */
export function targetScores(model: tfl.LayersModel, x: tf.Tensor4D, targets: tf.Tensor1D): tf.Tensor1D {
  return capturedPass(model, 'scores', (input, t) => scoresOf(model, input as tf.Tensor4D, t as tf.Tensor1D))(x, targets);
}

/**
 * ∂ score_r / ∂ x_r for every row, [rows, H, W, C], in one forward and one backward pass: rows are independent,
 * so the gradient of the summed scores is each row's own gradient. No weight gradient is computed (inference ops).
 */
export function targetGradients(model: tfl.LayersModel, x: tf.Tensor4D, targets: tf.Tensor1D): tf.Tensor4D {
  return capturedPass(model, 'input gradients', (input, t) => withInferenceLayers(model, () =>
    tf.tidy(() => tf.grad((u: tf.Tensor) => tf.sum(scoresOf(model, u as tf.Tensor4D, t as tf.Tensor1D)))(input) as tf.Tensor4D)))(x, targets);
}

function scoresOf(model: tfl.LayersModel, x: tf.Tensor4D, targets: tf.Tensor1D): tf.Tensor1D {
  const out = withInferenceLayers(model, () => model.apply(x, { training: false }) as tf.Tensor2D);
  return tf.sum(tf.mul(out, tf.oneHot(targets, out.shape[1])), 1);
}

/** Scores of every row of x [rows, H, W, C] in passes of at most `size` rows → Float32Array [rows]. */
export async function targetScoresInChunks(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, size: number): Promise<Float32Array> {
  const out = new Float32Array(x.shape[0]);
  await forEachChunk(x.shape[0], size, async (start, end) => {
    const scores = tf.tidy(() => targetScores(model, rowsOf(x, start, end), tf.tensor1d(targets.subarray(start, end), 'int32')));
    try {
      out.set(await scores.data() as Float32Array, start);
    } finally {
      scores.dispose();
    }
  });
  return out;
}

/** Rows [start, end) of x (x itself when that is all of it). Call inside tidy. */
export function rowsOf(x: tf.Tensor4D, start: number, end: number): tf.Tensor4D {
  return start === 0 && end === x.shape[0] ? x : tf.slice(x, [start, 0, 0, 0], [end - start, -1, -1, -1]);
}

/**
 * Calls `body(start, end)` for consecutive row ranges of at most `size` rows covering [0, rows), yielding to the
 * event loop between chunks (a server explaining stays responsive).
 */
export async function forEachChunk(rows: number, size: number, body: (start: number, end: number) => Promise<void> | void): Promise<void> {
  for (let start = 0; start < rows; start += size) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await body(start, Math.min(rows, start + size));
  }
}

/**
 * Per-image sums of row values: values [rows, ...] whose row r belongs to image images[r] → [n, ...]. A matmul
 * with the rows' one-hot image matrix (native on every backend), so a chunk may span several images.
 */
export function sumByImage<T extends tf.Tensor>(values: T, images: tf.Tensor1D, n: number): T {
  return tf.tidy(() => {
    if (n === 1) return tf.sum(values, 0, true) as T; // tf.oneHot needs a depth of at least 2
    const flat = tf.reshape(values, [values.shape[0], -1]) as tf.Tensor2D;
    const summed = tf.matMul(tf.cast(tf.oneHot(images, n), 'float32'), flat, true, false);
    return tf.reshape(summed, [n, ...values.shape.slice(1)]) as T;
  });
}
