import { LeakyRelu, LeakyReluAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { float32Handle } from './elementwise_util';

// x < 0 ? alpha * x : x. x: any shape and dtype -> float32, as tfjs's cpu kernel.
export const leakyReluConfig = nativeKernel<LeakyReluAttrs>(LeakyRelu, ({ inputs: { x }, attrs, backend }) =>
  backend.makeOutput(aten.leakyRelu(float32Handle(backend, x), attrs.alpha), 'float32'));
