import { Range, RangeAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

// [start, start + step, ...) up to stop -> [n], attrs.dtype, by tfjs's rules: empty when start == stop or step
// points away from stop (except step 1, flipped to -1 when stop < start). tfjs accumulates values[i] =
// values[i-1] + step in dtype and ATen computes start + i * step: equal for integral int32 ranges, within float32
// rounding otherwise. What tfjs does oddly runs on cpu: fractional int32 start or step, step 0 or NaN,
// 0 < step < 1 with stop < start (tfjs counts up), lengths tfjs computes differently from ATen, and bounds or steps
// beyond float32's range.
export const rangeConfig = nativeKernel<RangeAttrs>(Range, (args) => {
  const { attrs: { start, stop, dtype }, backend } = args;
  let { step } = args.attrs;
  const code = ScalarType[dtype];
  if (start === stop || (start < stop && step < 0) || (stop < start && step > 1)) {
    return backend.makeOutput(aten.empty([0], code), dtype, [0]);
  }
  const n = Math.abs(Math.ceil((stop - start) / step));  // tfjs's length, before the flip
  if (stop < start && step === 1) step = -1;
  const exactInt = Number.isInteger(start) && Number.isInteger(step);
  // Beyond float32's range (scalarAs gives ±Infinity) tfjs accumulates from ±Infinity or wraps int32; ATen refuses.
  const beyondFloat32 = [start, stop, step].some((v) => !Number.isFinite(scalarAs(v, 'float32')));
  if (!Number.isFinite(n) || n !== Math.ceil((stop - start) / step) || (dtype === 'int32' && !exactInt) || beyondFloat32) {
    return runCpuKernel(Range, args);
  }
  return backend.makeOutput(aten.arange(start, stop, step, code), dtype, [n]);
});
