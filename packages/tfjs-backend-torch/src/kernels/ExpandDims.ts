import { ExpandDims, ExpandDimsAttrs, util } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';

// input: [d0..] -> the same with a 1 inserted at `dim` (negative counts from the end of the new rank). A reshape:
// shares input's data id, as cpu's kernel does.
export const expandDimsConfig = nativeKernel<ExpandDimsAttrs>(ExpandDims, ({ inputs: { input }, attrs, backend }) => {
  const rank = input.shape.length;
  util.assert(-(rank + 1) <= attrs.dim, () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
  const dim = attrs.dim < 0 ? rank + attrs.dim + 1 : attrs.dim;
  const shape = [...input.shape];
  shape.splice(dim, 0, 1);
  return backend.alias(input, shape);
});
