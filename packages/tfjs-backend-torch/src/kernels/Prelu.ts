import { Prelu } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { float32Handle } from './elementwise_util';

// x < 0 ? alpha * x : x, alpha broadcast against x (numpy rules; ATen's prelu wants one alpha per channel 1).
// x, alpha: any dtype -> float32, the broadcast shape.
export const preluConfig = nativeKernel(Prelu, ({ inputs: { x, alpha }, backend }) => {
  const hx = float32Handle(backend, x);
  const scaled = backend.tmp(aten.mul(hx, float32Handle(backend, alpha)));
  return backend.makeOutput(aten.where(backend.tmp(aten.ltScalar(hx, 0)), scaled, hx), 'float32');
});
