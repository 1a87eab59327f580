import { Min, MinAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduction } from './reduce_util';

// x: [d0..] -> the min over `axis` (null: all; keepDims keeps them as 1s), in x's dtype. NaN wins.
export const minConfig = nativeKernel<MinAttrs>(Min, ({ inputs: { x }, attrs, backend }) => {
  const { axes, outShape } = reduction(attrs.axis, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, x.dtype);
  return backend.makeOutput(aten.amin(backend.handle(x), axes, attrs.keepDims), x.dtype, outShape);
});
