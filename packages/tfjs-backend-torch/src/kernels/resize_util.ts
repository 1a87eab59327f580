// Shared by the resize kernels: tfjs's (TensorFlow's) mapping from output pixels to input pixels.
import { TorchBackend } from '../backend';
import { Handle } from '../binding';
import { int32Const } from './const_util';

/**
 * Input row (column) read by each of `outSize` output rows of a nearest-neighbour resize from `inSize`,
 * exactly as tfjs computes it (in doubles): alignCorners rounds r * (in-1)/(out-1); otherwise the floor of
 * r * in/out, or of (r + 0.5) * in/out with halfPixelCenters. ATen's nearest modes use float32 scales and
 * can land one pixel off, and have no rounding mode, so the kernels gather with these indices instead.
 */
export function nearestIndex(backend: TorchBackend, inSize: number, outSize: number, alignCorners: boolean,
  halfPixelCenters: boolean): Handle {
  const aligned = alignCorners && outSize > 1;
  const ratio = aligned ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const index = Array.from({ length: outSize }, (_, r) => {
    const src = halfPixelCenters ? ratio * (r + 0.5) : ratio * r;
    const i = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    return halfPixelCenters ? Math.max(0, i) : i;
  });
  return int32Const(backend, index);
}
