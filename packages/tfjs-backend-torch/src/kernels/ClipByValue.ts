import { ClipByValue, ClipByValueAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';
import { scalarAs } from './scalar_util';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// A bound for float32 x, as a float32 (scalarAs): Number.MAX_VALUE is Infinity, as tfjs-layers' MAPE and MSLE
// losses pass it. For int32 x: tfjs stores a bound it applies into the Int32Array truncated, and for integers
// clamping to the truncated bound gives the same results; kept in int32 range so that ATen does not promote x to
// float32 (inexact above 2^24). NaN compares false in tfjs: no bound.
const float32Bound = (v: number) => (Number.isNaN(v) ? null : scalarAs(v, 'float32'));
const int32Bound = (v: number) => (Number.isNaN(v) ? null : Math.min(Math.max(Math.trunc(v), INT32_MIN), INT32_MAX));

// min(max(x, clipValueMin), clipValueMax), NaN x stays NaN. tf.clipByValue checks min <= max.
// x: any shape -> same shape and dtype (bool x runs on cpu).
export const clipByValueConfig = nativeKernel<ClipByValueAttrs>(ClipByValue, (args) => {
  const { inputs: { x }, attrs: { clipValueMin: min, clipValueMax: max }, backend } = args;
  if (x.dtype === 'int32' && (min > INT32_MAX || max < INT32_MIN)) {
    // No int32 lies within the bounds: every element becomes the one it crosses, stored wrapped (ToInt32) by tfjs.
    return backend.makeOutput(aten.full(x.shape, scalarAs(min > INT32_MAX ? min : max, 'int32'), ScalarType.int32),
      'int32', x.shape);
  }
  const bound = x.dtype === 'int32' ? int32Bound : float32Bound;
  return unaryMath(ClipByValue, args, (h) => aten.clamp(h, bound(min), bound(max)), true);
});
