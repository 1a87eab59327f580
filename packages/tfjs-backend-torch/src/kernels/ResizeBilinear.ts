import { ResizeBilinear, ResizeBilinearAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// images: [N,H,W,C] -> float32 [N,newH,newW,C], bilinear. Output row r samples input row
//   alignCorners:      r * (H-1)/(newH-1)        = ATen align_corners=True
//   halfPixelCenters:  (r + 0.5) * H/newH - 0.5  = ATen align_corners=False
//   neither:           r * H/newH                 (TF1's "asymmetric" mapping, not an ATen mode)
// and likewise for columns. The asymmetric case is align_corners on the input with one replicated extra
// row and column, resized to one extra row and column that is then dropped: (H+1-1)/(newH+1-1) = H/newH,
// and the replicated edge reproduces tfjs's clamping of the lower neighbour.
export const resizeBilinearConfig = nativeKernel<ResizeBilinearAttrs>(ResizeBilinear,
  ({ inputs: { images }, attrs, backend }) => {
    const [n, , , c] = images.shape;
    const [newH, newW] = attrs.size;
    let x = backend.handle(images);
    if (images.dtype !== 'float32') x = backend.tmp(aten.to(x, ScalarType.float32));
    const nchw = backend.tmp(aten.permute(x, [0, 3, 1, 2]));
    let y;
    if (attrs.alignCorners || attrs.halfPixelCenters) {
      y = backend.tmp(aten.upsampleBilinear2d(nchw, [newH, newW], attrs.alignCorners));
    } else {
      const padded = backend.tmp(aten.replicationPad2d(nchw, [0, 1, 0, 1]));
      y = backend.tmp(aten.upsampleBilinear2d(padded, [newH + 1, newW + 1], true));
      y = backend.tmp(aten.narrow(backend.tmp(aten.narrow(y, 2, 0, newH)), 3, 0, newW));
    }
    return backend.makeOutput(aten.permute(y, [0, 2, 3, 1]), 'float32', [n, newH, newW, c]);
  });
