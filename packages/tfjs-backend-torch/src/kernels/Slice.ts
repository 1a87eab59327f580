import { Slice, slice_util, SliceAttrs, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..] -> `size` (a -1 entry means "to the end"), starting at `begin`. A view of x.
export const sliceConfig = nativeKernel<SliceAttrs>(Slice, ({ inputs: { x }, attrs, backend }) => {
  const [begin, size] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  slice_util.assertParamsValid(x, begin, size);
  if (util.arraysEqual(size, x.shape)) return backend.alias(x);
  let h = backend.handle(x);
  size.forEach((s, dim) => {
    if (begin[dim] !== 0 || s !== x.shape[dim]) h = backend.tmp(aten.narrow(h, dim, begin[dim], s));
  });
  return backend.makeOutput(aten.view(h, size), x.dtype, size);
});
