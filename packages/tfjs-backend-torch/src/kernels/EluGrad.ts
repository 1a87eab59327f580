import { EluGrad } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { float32Handle } from './elementwise_util';

// dy * (y >= 0 ? 1 : y + 1), from Elu's output y. dy, y: same shape -> float32. Written as
// dy * (min(y, 0) + 1) so a NaN y gives NaN as in tfjs (ATen's elu_backward would pass dy through).
export const eluGradConfig = nativeKernel(EluGrad, ({ inputs: { dy, y }, backend }) => {
  const slope = backend.tmp(aten.addScalar(backend.tmp(aten.clamp(float32Handle(backend, y), null, 0)), 1));
  return backend.makeOutput(aten.mul(float32Handle(backend, dy), slope), 'float32');
});
