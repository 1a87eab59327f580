import { Fill, FillAttrs, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { isNativeDtype } from '../backend';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

// A tensor of attrs.shape filled with attrs.value, of attrs.dtype (default: inferred from the value).
// The value is converted as a typed array's fill() does (scalarAs: float32 rounds, 1e300 is Infinity; int32 wraps);
// string tensors are made by cpu.
export const fillConfig = nativeKernel<FillAttrs>(Fill, (args) => {
  const { attrs: { shape, value }, backend } = args;
  const dtype = args.attrs.dtype ?? util.inferDtype(value);
  if (!isNativeDtype(dtype)) return runCpuKernel(Fill, args);
  const v = scalarAs(Number(value), dtype);
  // bool from a value other than 0/1 keeps that byte in tfjs (Uint8Array.fill), which a libtorch bool cannot.
  if (dtype === 'bool' && v > 1) return runCpuKernel(Fill, args);
  return backend.makeOutput(aten.full(shape, v, ScalarType[dtype as 'float32']), dtype, shape);
});
