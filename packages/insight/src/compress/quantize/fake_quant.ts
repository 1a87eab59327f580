// Fake quantisation: a float tensor rounded to the values an int8 graph can hold, with the straight-through estimator
// (Bengio et al. 2013) as its gradient: dy passes where the input lies inside the representable range and is zero
// outside, as TensorFlow's FakeQuantWithMinMaxVarsGradient and torch.ao's FakeQuantize give it. The arithmetic is
// the ONNX graph's (onnx/quant.ts, QuantizeLinear / DequantizeLinear in float32 with ties to even):
// - activations per tensor, uint8 asymmetric: q = clip(round(x / s) + z, 0, 255), x̂ = (q − z)·s;
// - kernels per output channel, int8 symmetric: s_c = max|w_c| / 127 (1 for an all-zero channel),
//   ŵ = clip(round(w / s_c), −127, 127)·s_c — every weight lies inside its channel's range.
import { tf } from '../../backend';
import { activationParams } from '../../onnx/quant';
import type { ValueRange } from '../../onnx/quantization_params';

/**
 * y = quantize(x), dy/dx = 1 on [lo, hi] and 0 elsewhere (lo and hi broadcast against x). The mask is made in the
 * forward pass and saved on the tape, which keeps it past the tidy of the layer call that made it.
 */
function straightThrough(x: tf.Tensor, quantize: (x: tf.Tensor) => tf.Tensor, lo: tf.Tensor | number, hi: tf.Tensor | number): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([tf.cast(tf.logicalAnd(tf.greaterEqual(input, lo), tf.lessEqual(input, hi)), 'float32')]);
    return { value: quantize(input), gradFunc: (dy: tf.Tensor, [inside]: tf.Tensor[]) => tf.mul(dy, inside) };
  });
  return op(x);
}

/**
 * x → x̂ on the uint8 grid of `range` (per tensor, the ONNX writer's scale and zero point). The gradient passes where
 * x lies in the grid's span [−z·s, (255 − z)·s] (the range rounded to the grid).
 * Example: fakeQuantize(tf.tensor([-1, 0.3, 7]), { min: -1, max: 1 }) → [-1, 0.2980392, 1.0039216] (s = 2/255, z = 128).
 */
export function fakeQuantize(x: tf.Tensor, range: ValueRange): tf.Tensor {
  const { scale, zeroPoint } = activationParams(range);
  const lo = Math.fround(-zeroPoint * scale);
  const hi = Math.fround((255 - zeroPoint) * scale);
  return straightThrough(x, (input) => tf.tidy(() => {
    const q = tf.clipByValue(tf.add(tf.round(tf.div(input, scale)), zeroPoint), 0, 255);
    return tf.mul(tf.sub(q, zeroPoint), scale);
  }), lo, hi);
}

/**
 * w → ŵ with one symmetric int8 scale per channel along `axis` (default the last: Conv2D's [kh, kw, in, out] and
 * Dense's [in, out] kernels). The gradient passes everywhere (every weight is inside its channel's range).
 */
export function fakeQuantizePerChannel(w: tf.Tensor, axis = w.rank - 1): tf.Tensor {
  const reduceAxes = w.shape.map((_, k) => k).filter((k) => k !== axis);
  const maxAbs = tf.max(tf.abs(w), reduceAxes, true);
  const scale = tf.where(tf.greater(maxAbs, 0), tf.div(maxAbs, 127), tf.onesLike(maxAbs));
  return straightThrough(w, (input) => tf.mul(tf.clipByValue(tf.round(tf.div(input, scale)), -127, 127), scale),
    tf.neg(maxAbs), maxAbs);
}
