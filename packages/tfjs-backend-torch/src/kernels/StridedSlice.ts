import { slice_util, StridedSlice, StridedSliceAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..] -> finalShape. slice_util resolves the masks to, per axis of x, a start, an end and a stride;
// element j of an axis is x[begin + j * stride] while short of end (shrunk axes take one element and new
// axes are 1s, both only in finalShape). Negative strides narrow to the touched range, flip it, then step
// forward.
export const stridedSliceConfig = nativeKernel<StridedSliceAttrs>(StridedSlice, ({ inputs: { x }, attrs, backend }) => {
  const info = slice_util.sliceInfo(x.shape, attrs.begin, attrs.end, attrs.strides, attrs.beginMask,
    attrs.endMask, attrs.ellipsisMask, attrs.newAxisMask, attrs.shrinkAxisMask);
  if (info.isIdentity) return backend.alias(x, info.finalShape);  // a reshape, as in cpu's kernel
  let h = backend.handle(x);
  x.shape.forEach((size, dim) => {
    const b = info.begin[dim];
    const s = info.strides[dim];
    const n = count(b, info.end[dim], s);
    if (n === size && b === 0 && s === 1) return;
    if (n === 0) {
      h = backend.tmp(aten.narrow(h, dim, 0, 0));
    } else if (s > 0) {
      h = backend.tmp(aten.slice(h, dim, b, b + (n - 1) * s + 1, s));
    } else {
      const lo = b + (n - 1) * s;
      h = backend.tmp(aten.flip(backend.tmp(aten.narrow(h, dim, lo, b - lo + 1)), [dim]));
      if (s !== -1) h = backend.tmp(aten.slice(h, dim, 0, null, -s));
    }
  });
  return backend.makeOutput(aten.reshape(h, info.finalShape), x.dtype, info.finalShape);
});

// Elements of begin, begin + stride, .. short of end (as slice_util's processing shape).
function count(begin: number, end: number, stride: number): number {
  const len = end - begin;
  if (len === 0 || (len < 0) !== (stride < 0)) return 0;
  return Math.trunc(len / stride) + (len % stride !== 0 ? 1 : 0);
}
