import { LeakyRelu, LeakyReluAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { float32Handle, leakyReluOf } from './elementwise_util';

// x < 0 ? alpha * x : x. x: any shape and dtype -> float32, as tfjs's cpu kernel. alpha is a float32 (scalarAs: beyond
// float32's range it is ±Infinity; tfjs multiplies in float64 first, which differs only for such an alpha times an
// x small enough to bring the product back into range).
export const leakyReluConfig = nativeKernel<LeakyReluAttrs>(LeakyRelu, ({ inputs: { x }, attrs, backend }) =>
  backend.makeOutput(leakyReluOf(backend, float32Handle(backend, x), attrs.alpha), 'float32'));
