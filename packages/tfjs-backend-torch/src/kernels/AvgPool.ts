import { backend_util, AvgPool, AvgPoolAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { cropOutput, nchwToNhwc, nhwcToNchw } from './conv_util';
import { identityPool, poolGeometry, windowCounts } from './pool_util';

// x: [N,H,W,C] -> [N,OH,OW,C]; each window averages over its real inputs (padding is not counted).
export const avgPoolConfig = nativeKernel<AvgPoolAttrs>(AvgPool, ({ inputs: { x }, attrs, backend }) => {
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const same = identityPool(backend, x, info);
  if (same !== null) return same;
  const g = poolGeometry(info);
  const xh = nhwcToNchw(backend, backend.handle(x));
  let y;
  if (g.p.explicit === null) {
    y = aten.avgPool2d(xh, g.kernel, g.stride, g.p.padding, false, false, null);
  } else {
    const sums = backend.tmp(aten.avgPool2d(backend.tmp(aten.constantPad(xh, g.p.explicit, 0)), g.kernel, g.stride,
      [0, 0], false, true, 1));
    y = aten.div(sums, windowCounts(backend, g));
  }
  return backend.makeOutput(nchwToNhwc(backend.tmp(cropOutput(backend, y, g.p, info.outHeight, info.outWidth))),
    'float32', info.outShape);
});
