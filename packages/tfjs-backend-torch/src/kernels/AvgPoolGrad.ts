import { backend_util, AvgPoolGrad, AvgPoolGradAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nchwToNhwc, shapeTemplate, unpadGradient } from './conv_util';
import { dyForPool, poolGeometry } from './pool_util';

// dy: [N,OH,OW,C], input: [N,H,W,C] -> dx: [N,H,W,C]; each window's gradient spread evenly over it.
export const avgPoolGradConfig = nativeKernel<AvgPoolGradAttrs>(AvgPoolGrad, ({ inputs: { dy, input }, attrs, backend }) => {
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad);
  const g = poolGeometry(info);
  const [n, , , c] = input.shape;
  // tfjs's AvgPoolGrad spreads dy / (kh*kw) over every window, padding included (unlike its forward pass).
  const self = shapeTemplate(backend, [n, c, ...g.p.paddedHW]);
  const dx = unpadGradient(backend, aten.avgPool2dBackward(dyForPool(backend, backend.handle(dy), g), self, g.kernel,
    g.stride, g.p.padding, false, true, g.kernel[0] * g.kernel[1]), g.p, info.inHeight, info.inWidth);
  return backend.makeOutput(nchwToNhwc(backend.tmp(dx)), 'float32', input.shape);
});
