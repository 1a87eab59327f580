import { backend_util, MaxPoolGrad, MaxPoolGradAttrs, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { keptPair } from './compute_dtype';
import { nchwToNhwc, nhwcToNchw, padInput, shapeTemplate, unpadGradient } from './conv_util';
import { dyForPool, poolGeometry } from './pool_util';

// dy: [N,OH,OW,C], input: [N,H,W,C], output: [N,OH,OW,C] -> dx: [N,H,W,C]. Routes dy to each window's
// argmax, using the indices MaxPool kept on `output` (recomputed if it has none); in dy's precision when dy is a
// bfloat16-stored activation gradient (compute_dtype.ts).
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
  let dyh;
  if (indices === undefined) {
    let inputh;
    [dyh, inputh] = keptPair(backend, dy, input);
    self = padInput(backend, nhwcToNchw(backend, inputh), g.p, -Infinity);
    const [y, idx] = aten.maxPool2dWithIndices(self, g.kernel, g.stride, g.p.padding, [1, 1], false);
    backend.tmp(y);
    indices = backend.tmp(idx);
  } else {
    // Only the shape and dtype of `self` matter to the backward op.
    dyh = backend.keptHandle(dy);
    self = shapeTemplate(backend, [n, c, ...g.p.paddedHW], backend.isBfloat16(dy) ? ScalarType.bfloat16 : ScalarType.float32);
  }
  const dx = aten.maxPool2dWithIndicesBackward(dyForPool(backend, dyh, g), self, g.kernel, g.stride,
    g.p.padding, [1, 1], false, indices);
  return backend.makeOutput(nchwToNhwc(backend.tmp(unpadGradient(backend, dx, g.p, info.inHeight, info.inWidth))),
    'float32', input.shape);
});
