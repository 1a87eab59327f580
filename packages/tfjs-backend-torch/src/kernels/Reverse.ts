import { Reverse, ReverseAttrs, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..] -> the same shape with the order of elements along each of `dims` reversed.
export const reverseConfig = nativeKernel<ReverseAttrs>(Reverse, ({ inputs: { x }, attrs, backend }) => {
  const dims = util.parseAxisParam(attrs.dims, x.shape);
  if (x.shape.length === 0 || dims.length === 0) return backend.alias(x);
  return backend.makeOutput(aten.flip(backend.handle(x), dims), x.dtype, x.shape);
});
