import { All, AllAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduction } from './reduce_util';

// x: bool [d0..] -> bool, true where every element over `axis` is true (null: all; keepDims keeps 1s).
// On bools, min is "all" and takes several axes at once (ATen's all takes one).
export const allConfig = nativeKernel<AllAttrs>(All, ({ inputs: { x }, attrs, backend }) => {
  const { axes, outShape } = reduction(attrs.axis, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, x.dtype);
  return backend.makeOutput(aten.amin(backend.handle(x), axes, attrs.keepDims), x.dtype, outShape);
});
