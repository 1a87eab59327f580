import { Fill, FillAttrs, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { isNativeDtype } from '../backend';
import { nativeKernel, runCpuKernel } from '../kernel_util';


// A tensor of attrs.shape filled with attrs.value, of attrs.dtype (default: inferred from the value).
// The value is converted as a typed array's fill() does (int32: ToInt32); string tensors are made by cpu.
export const fillConfig = nativeKernel<FillAttrs>(Fill, (args) => {
  const { attrs: { shape, value }, backend } = args;
  const dtype = args.attrs.dtype ?? util.inferDtype(value);
  // bool from a value other than 0/1 keeps that byte in tfjs (Uint8Array.fill), which a libtorch bool cannot.
  if (!isNativeDtype(dtype) || (dtype === 'bool' && (Number(value) & 255) > 1)) return runCpuKernel(Fill, args);
  const v = dtype === 'int32' ? Number(value) | 0 : dtype === 'bool' ? Number(value) & 1 : Number(value);
  return backend.makeOutput(aten.full(shape, v, ScalarType[dtype as 'float32']), dtype, shape);
});
