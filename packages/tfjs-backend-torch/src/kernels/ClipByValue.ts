import { ClipByValue, ClipByValueAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// A bound for int32 x: tfjs stores a bound into the Int32Array truncated, and for integers clamping to the
// truncated bound gives the same results. NaN compares false in tfjs: no bound. Kept in int32 range so
// that ATen does not promote x to float32 (inexact above 2^24).
const int32Bound = (v: number) => (Number.isNaN(v) ? null : Math.min(Math.max(Math.trunc(v), -2147483648), 2147483647));

// min(max(x, clipValueMin), clipValueMax), NaN x stays NaN. tf.clipByValue checks min <= max.
// x: any shape -> same shape and dtype (bool x runs on cpu).
export const clipByValueConfig = nativeKernel<ClipByValueAttrs>(ClipByValue, (args) => {
  const { clipValueMin: min, clipValueMax: max } = args.attrs;
  const bound = args.inputs.x.dtype === 'int32' ? int32Bound : (v: number) => (Number.isNaN(v) ? null : v);
  return unaryMath(ClipByValue, args, (h) => aten.clamp(h, bound(min), bound(max)), true);
});
