// int8 parameters of a QDQ graph, as ONNX Runtime's QDQ selectors expect them to fuse Conv/Gemm into integer kernels:
// activations per-tensor uint8 asymmetric (scale, zero point from a calibrated range that includes 0), weights
// per-output-channel symmetric int8 (zero point 0, scale max|w|/127), biases int32 with scale s_input·s_weight.
import { tf } from '../backend';
import type { ValueRange } from './quantization_params';

/** Per-tensor uint8 parameters: real = scale · (q − zeroPoint). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 parameters covering [min(range.min, 0), max(range.max, 0)] (0 must be exact: padding and ReLU). */
export function activationParams(range: ValueRange): QuantParams {
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale: Math.fround(scale), zeroPoint };
}

const INT32_MAX = 2147483647;

/**
 * Per-channel symmetric int8 weights: `w` [..., channels along `axis`] → int8 values and one scale per channel, at
 * least `minScales[c]` when given (see biasScaleFloors).
 */
export function quantizeWeights(w: tf.Tensor, axis: number, minScales?: Float32Array): { values: Int8Array; scales: Float32Array } {
  const [q, scales] = tf.tidy(() => {
    const reduceAxes = w.shape.map((_, k) => k).filter((k) => k !== axis);
    const maxAbs = tf.max(tf.abs(w), reduceAxes, true);
    const fitted = tf.where(tf.greater(maxAbs, 0), tf.div(maxAbs, 127), tf.onesLike(maxAbs));
    const s = minScales === undefined ? fitted : tf.maximum(fitted, tf.tensor(minScales, maxAbs.shape));
    return [tf.clipByValue(tf.round(tf.div(w, s)), -127, 127), s];
  });
  try {
    return { values: Int8Array.from(q.dataSync()), scales: Float32Array.from(scales.dataSync()) };
  } finally {
    q.dispose();
    scales.dispose();
  }
}

/**
 * The smallest weight scale per output channel that keeps its int32 bias within half the int32 range (room for
 * rounding): |b| / (inputScale · 2^30). A channel whose weights are (nearly) all pruned would otherwise get a tiny
 * scale and a bias clamped to int32 — a wrong bias; ONNX Runtime's quantizer widens the weight scale the same way.
 */
export function biasScaleFloors(bias: Float32Array, inputScale: number): Float32Array {
  return bias.map((b) => Math.abs(b) / (inputScale * 2 ** 30));
}

/** int32 bias for an integer Conv/Gemm: round(b / (inputScale · weightScale[c])), clamped to int32. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  const scales = weightScales.map((s) => Math.fround(inputScale * s));
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) values[c] = Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(bias[c] / scales[c])));
  return { values, scales };
}
