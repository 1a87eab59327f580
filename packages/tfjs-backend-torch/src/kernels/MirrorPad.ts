import { MirrorPad, MirrorPadAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { int32Const } from './const_util';

// x: [d0..] -> [p[i][0] + di + p[i][1], ..], padded with mirror images of x: 'reflect' leaves the edge out
// ([1 2 3] -> 3 2 [1 2 3] 2 1), 'symmetric' repeats it (2 1 [1 2 3] 3 2). ATen has only reflect (float
// only), so each padded axis is one index_select with the source index of every output cell, as in the
// cpu kernel; this serves both modes and every dtype.
export const mirrorPadConfig = nativeKernel<MirrorPadAttrs>(MirrorPad, ({ inputs: { x }, attrs, backend }) => {
  const offset = attrs.mode === 'reflect' ? 0 : 1;
  let h = backend.handle(x);
  attrs.paddings.forEach(([before, after], dim) => {
    if (before === 0 && after === 0) return;
    const size = x.shape[dim];
    const index = Array.from({ length: before + size + after }, (_, i) => {
      const c = i - before;
      if (c < 0) return -c - offset;
      if (c >= size) return 2 * (size - 1) - c + offset;
      return c;
    });
    h = backend.tmp(aten.indexSelect(h, dim, int32Const(backend, index)));
  });
  const outShape = x.shape.map((d, i) => attrs.paddings[i][0] + d + attrs.paddings[i][1]);
  return backend.makeOutput(aten.view(h, outShape), x.dtype, outShape);
});
