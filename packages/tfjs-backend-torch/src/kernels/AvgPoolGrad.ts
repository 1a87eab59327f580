import { backend_util, AvgPoolGrad, AvgPoolGradAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nchwToNhwc, padGradToAtenOutput, shapeTemplate, unpadGradient } from './conv_util';
import { poolGeometry, windowCounts } from './pool_util';

// dy: [N,OH,OW,C], input: [N,H,W,C] -> dx: [N,H,W,C]: the adjoint of AvgPool, which averages each window over its
// real (unpadded) inputs: each window's dy / (its number of real inputs) goes to each of them, as TensorFlow's and
// PyTorch's (count_include_pad=False) gradients do. (tfjs-backend-cpu divides by kh*kw, padding included, which is not
// the gradient of its own forward pass.)
export const avgPoolGradConfig = nativeKernel<AvgPoolGradAttrs>(AvgPoolGrad, ({ inputs: { dy, input }, attrs, backend }) => {
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad);
  const g = poolGeometry(info);
  const [n, , , c] = input.shape;
  const self = shapeTemplate(backend, [n, c, ...g.p.paddedHW]);
  const dyNchw = backend.tmp(aten.permute(backend.handle(dy), [0, 3, 1, 2]));
  let dx;
  if (g.p.explicit === null) {
    // Symmetric padding: ATen's own backward divides by the real inputs of each window.
    dx = aten.avgPool2dBackward(dyNchw, self, g.kernel, g.stride, g.p.padding, false, false, null);
  } else {
    // Asymmetric padding (pad 'same' with an odd total): divide dy by each window's count of real inputs
    // ([1,1,OH,OW], cropped from ATen's grid before dy is zero-padded to it), then spread the quotient unscaled
    // over the explicitly padded input and drop the padding.
    const counts = windowCounts(backend, g);
    const cropped = backend.tmp(aten.narrow(backend.tmp(aten.narrow(counts, 2, 0, info.outHeight)), 3, 0, info.outWidth));
    const perInput = padGradToAtenOutput(backend, backend.tmp(aten.div(dyNchw, cropped)), g.p, info.outHeight,
      info.outWidth);
    dx = unpadGradient(backend, aten.avgPool2dBackward(perInput, self, g.kernel, g.stride, [0, 0], false, true, 1), g.p,
      info.inHeight, info.inWidth);
  }
  return backend.makeOutput(nchwToNhwc(backend.tmp(dx)), 'float32', input.shape);
});
