import { ResizeNearestNeighbor, ResizeNearestNeighborAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nearestIndex } from './resize_util';

// images: [N,H,W,C] -> [N,newH,newW,C] in images' dtype: each output pixel copies its nearest input pixel
// (tfjs's alignCorners / halfPixelCenters rules), as a gather of rows, then of columns.
export const resizeNearestNeighborConfig = nativeKernel<ResizeNearestNeighborAttrs>(ResizeNearestNeighbor,
  ({ inputs: { images }, attrs, backend }) => {
    const [n, h, w, c] = images.shape;
    const [newH, newW] = attrs.size;
    const { alignCorners, halfPixelCenters } = attrs;
    const rows = backend.tmp(aten.indexSelect(backend.handle(images), 1,
      nearestIndex(backend, h, newH, alignCorners, halfPixelCenters)));
    return backend.makeOutput(aten.indexSelect(rows, 2, nearestIndex(backend, w, newW, alignCorners, halfPixelCenters)),
      images.dtype, [n, newH, newW, c]);
  });
