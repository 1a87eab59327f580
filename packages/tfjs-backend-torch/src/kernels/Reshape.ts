import { Reshape, ReshapeAttrs, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: any shape -> attrs.shape (one -1 allowed). A view when strides allow, else a copy.
export const reshapeConfig = nativeKernel<ReshapeAttrs>(Reshape, ({ inputs: { x }, attrs, backend }) => {
  const shape = util.inferFromImplicitShape(attrs.shape, util.sizeFromShape(x.shape));
  return backend.makeOutput(aten.reshape(backend.handle(x), shape), x.dtype, shape);
});
