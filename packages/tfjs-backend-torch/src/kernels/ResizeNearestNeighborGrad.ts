import { ResizeNearestNeighborGrad, ResizeNearestNeighborGradAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nearestIndex } from './resize_util';

// dy: [N,newH,newW,C], images: [N,H,W,C] -> dx: [N,H,W,C] in images' dtype: each input pixel gets the sum
// of dy over the output pixels that copied it (index_add with the forward pass's indices, columns then
// rows). With halfPixelCenters this is the true gradient; tfjs's cpu kernel ignores that flag here.
export const resizeNearestNeighborGradConfig = nativeKernel<ResizeNearestNeighborGradAttrs>(ResizeNearestNeighborGrad,
  ({ inputs: { images, dy }, attrs, backend }) => {
    const [n, h, w, c] = images.shape;
    const [, newH, newW] = dy.shape;
    const { alignCorners } = attrs;
    const half = attrs.halfPixelCenters ?? false;
    const g = backend.tmp(aten.to(backend.handle(dy), ScalarType.float32));
    const cols = backend.tmp(aten.indexAdd(backend.tmp(aten.full([n, newH, w, c], 0, ScalarType.float32)), 2,
      nearestIndex(backend, w, newW, alignCorners, half), g));
    const dx = backend.tmp(aten.indexAdd(backend.tmp(aten.full([n, h, w, c], 0, ScalarType.float32)), 1,
      nearestIndex(backend, h, newH, alignCorners, half), cols));
    return backend.makeOutput(aten.to(dx, ScalarType[images.dtype as 'float32']), images.dtype, images.shape);
  });
