import { Mean, MeanAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduction } from './reduce_util';

// x: [d0..] -> the float32 mean over `axis` (null: all; keepDims keeps them as 1s), whatever x's dtype.
export const meanConfig = nativeKernel<MeanAttrs>(Mean, ({ inputs: { x }, attrs, backend }) => {
  const { axes, outShape } = reduction(attrs.axis, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, 'float32');
  return backend.makeOutput(aten.mean(backend.handle(x), axes, attrs.keepDims, ScalarType.float32), 'float32',
    outShape);
});
