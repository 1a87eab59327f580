import { backend_util, SplitV, SplitVAttrs, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [.., d at axis, ..] -> pieces of sizes numOrSizeSplits (or d / n each) along axis (views of x).
export const splitVConfig = nativeKernel<SplitVAttrs>(SplitV, ({ inputs: { x }, attrs, backend }) => {
  const axis = util.parseAxisParam(attrs.axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  return aten.splitWithSizes(backend.handle(x), sizes, axis).map((h, i) => {
    const shape = [...x.shape];
    shape[axis] = sizes[i];
    return backend.makeOutput(h, x.dtype, shape);
  });
});
