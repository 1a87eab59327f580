import { Max, MaxAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduction } from './reduce_util';

// x: [d0..] -> the max over `reductionIndices` (null: all; keepDims keeps them as 1s), in x's dtype.
// NaN wins, as in the cpu kernel.
export const maxConfig = nativeKernel<MaxAttrs>(Max, ({ inputs: { x }, attrs, backend }) => {
  const { axes, outShape } = reduction(attrs.reductionIndices, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, x.dtype);
  return backend.makeOutput(aten.amax(backend.handle(x), axes, attrs.keepDims), x.dtype, outShape);
});
