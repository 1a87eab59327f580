import { TopK, TopKAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [.., n] -> values [.., k] in x's dtype and int32 indices [.., k] of the k largest along the last axis,
// largest first. Equal values keep their order (lower index first), as in the cpu kernel: a stable
// descending sort gives that, while ATen's topk orders ties arbitrarily. The output is sorted either way.
export const topKConfig = nativeKernel<TopKAttrs>(TopK, ({ inputs: { x }, attrs, backend }) => {
  const n = x.shape[x.shape.length - 1];
  const outShape = [...x.shape.slice(0, -1), attrs.k];
  let [values, indices] = aten.sortStable(backend.handle(x), true, -1, true);
  if (attrs.k < n) {
    values = aten.narrow(backend.tmp(values), -1, 0, attrs.k);
    indices = aten.narrow(backend.tmp(indices), -1, 0, attrs.k);
  }
  return [backend.makeOutput(values, x.dtype, outShape), backend.makeOutput(indices, 'int32', outShape)];
});
