import { ResizeBilinearGrad, ResizeBilinearGradAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// dy: [N,newH,newW,C], images: [N,H,W,C] -> float32 dx: [N,H,W,C], the adjoint of ResizeBilinear with the
// same flags (see ResizeBilinear.ts for the three mappings). For the asymmetric one, dy gets a zero extra
// row and column, goes back through align_corners, and the replicated row and column fold onto the last
// real ones. With halfPixelCenters this is the true gradient; tfjs's cpu kernel ignores that flag here.
export const resizeBilinearGradConfig = nativeKernel<ResizeBilinearGradAttrs>(ResizeBilinearGrad,
  ({ inputs: { images, dy }, attrs, backend }) => {
    const [n, h, w, c] = images.shape;
    const [, newH, newW] = dy.shape;
    let g = backend.handle(dy);
    if (dy.dtype !== 'float32') g = backend.tmp(aten.to(g, ScalarType.float32));
    g = backend.tmp(aten.permute(g, [0, 3, 1, 2]));
    let dx;
    if (attrs.alignCorners || attrs.halfPixelCenters) {
      dx = backend.tmp(aten.upsampleBilinear2dBackward(g, [newH, newW], [n, c, h, w], attrs.alignCorners));
    } else {
      const padded = backend.tmp(aten.constantPad(g, [0, 1, 0, 1], 0));
      dx = backend.tmp(aten.upsampleBilinear2dBackward(padded, [newH + 1, newW + 1], [n, c, h + 1, w + 1], true));
      for (const [dim, size] of [[2, h], [3, w]]) {
        const extra = backend.tmp(aten.narrow(dx, dim, size, 1));
        const pad = dim === 2 ? [0, 0, size - 1, 0] : [size - 1, 0];
        dx = backend.tmp(aten.add(backend.tmp(aten.narrow(dx, dim, 0, size)), backend.tmp(aten.constantPad(extra, pad, 0))));
      }
    }
    return backend.makeOutput(aten.permute(dx, [0, 2, 3, 1]), 'float32', images.shape);
  });
