import { Sum, SumAttrs, upcastType } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduction } from './reduce_util';

// x: [d0..] -> x summed over `axis` (null: all; keepDims keeps them as 1s). float32 stays float32; int32
// and bool give int32 (wrapping on overflow, as the cpu kernel's Int32Array does). A bfloat16-stored activation
// gradient (a bias gradient's input, compute_dtype.ts) is summed into float32 as it is read, with no widened copy.
export const sumConfig = nativeKernel<SumAttrs>(Sum, ({ inputs: { x }, attrs, backend }) => {
  const dtype = upcastType(x.dtype, 'int32');
  const { axes, outShape } = reduction(attrs.axis, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, dtype);
  return backend.makeOutput(aten.sum(backend.keptHandle(x), axes, attrs.keepDims, ScalarType[dtype as 'float32']),
    dtype, outShape);
});
