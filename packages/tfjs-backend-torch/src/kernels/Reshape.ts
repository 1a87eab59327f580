import { Reshape, ReshapeAttrs, util } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';

// x: any shape -> attrs.shape (one -1 allowed), sharing x's data id as cpu's Reshape does (no copy, no new id:
// tfjs's leak check counts ids). Kernels that read the result get a view in the new shape (backend.handle).
export const reshapeConfig = nativeKernel<ReshapeAttrs>(Reshape, ({ inputs: { x }, attrs, backend }) => {
  const size = util.sizeFromShape(x.shape);
  const shape = util.inferFromImplicitShape(attrs.shape, size);
  util.assert(util.sizeFromShape(shape) === size, () => `The new shape (${shape}) has ${util.sizeFromShape(shape)} ` +
    `elements and the old shape (${x.shape}) has ${size} elements. The new shape and old shape must have the same ` +
    'number of elements.');
  return backend.alias(x, shape);
});
