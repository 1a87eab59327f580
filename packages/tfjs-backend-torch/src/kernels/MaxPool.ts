import { backend_util, MaxPool, MaxPoolAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { cropOutput, isRecordingGradients, nchwToNhwc, nhwcToNchw, padInput } from './conv_util';
import { identityPool, poolGeometry } from './pool_util';

// x: [N,H,W,C] -> [N,OH,OW,C], in x's precision (a bfloat16-stored activation stays so: compute_dtype.ts). While
// gradients are recorded, the argmax indices are kept on the output's entry so MaxPoolGrad does not recompute the
// forward pass.
export const maxPoolConfig = nativeKernel<MaxPoolAttrs>(MaxPool, ({ inputs: { x }, attrs, backend }) => {
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const same = identityPool(backend, x, info);
  if (same !== null) return same;
  const g = poolGeometry(info);
  const xp = padInput(backend, nhwcToNchw(backend, backend.keptHandle(x)), g.p, -Infinity);
  const record = isRecordingGradients();
  let y;
  let indices;
  if (record) [y, indices] = aten.maxPool2dWithIndices(xp, g.kernel, g.stride, g.p.padding, [1, 1], false);
  else y = aten.maxPool2d(xp, g.kernel, g.stride, g.p.padding, [1, 1], false);
  const out = backend.makeOutput(nchwToNhwc(backend.tmp(cropOutput(backend, y, g.p, info.outHeight, info.outWidth))),
    x.dtype, info.outShape);
  if (indices !== undefined) backend.data.get(out.dataId).aux = indices;
  return out;
});
