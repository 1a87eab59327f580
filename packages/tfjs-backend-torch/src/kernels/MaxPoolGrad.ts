import { backend_util, MaxPoolGrad, MaxPoolGradAttrs, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nchwToNhwc, nhwcToNchw, padInput, shapeTemplate, unpadGradient } from './conv_util';
import { dyForPool, poolGeometry } from './pool_util';

// dy: [N,OH,OW,C], input: [N,H,W,C], output: [N,OH,OW,C] -> dx: [N,H,W,C]. Routes dy to each window's
// argmax, using the indices MaxPool kept on `output` (recomputed if it has none).
export const maxPoolGradConfig = nativeKernel<MaxPoolGradAttrs>(MaxPoolGrad, ({ inputs, attrs, backend }) => {
  const { dy, input, output } = inputs;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const g = poolGeometry(info);
  const [n, , , c] = input.shape;
  // An alias of MaxPool's output under another shape (a Reshape) shares the entry, not the pooling.
  const kept = backend.data.has(output.dataId) ? backend.data.get(output.dataId) : undefined;
  let indices = kept !== undefined && util.arraysEqual(kept.shape, output.shape) ? kept.aux : undefined;
  let self;
  if (indices === undefined) {
    self = padInput(backend, nhwcToNchw(backend, backend.handle(input)), g.p, -Infinity);
    const [y, idx] = aten.maxPool2dWithIndices(self, g.kernel, g.stride, g.p.padding, [1, 1], false);
    backend.tmp(y);
    indices = backend.tmp(idx);
  } else {
    // Only the shape of `self` matters to the backward op.
    self = shapeTemplate(backend, [n, c, ...g.p.paddedHW]);
  }
  const dx = aten.maxPool2dWithIndicesBackward(dyForPool(backend, backend.handle(dy), g), self, g.kernel, g.stride,
    g.p.padding, [1, 1], false, indices);
  return backend.makeOutput(nchwToNhwc(backend.tmp(unpadGradient(backend, dx, g.p, info.inHeight, info.inWidth))),
    'float32', input.shape);
});
