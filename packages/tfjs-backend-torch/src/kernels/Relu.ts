import { Relu } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// max(x, 0), keeping x's dtype.
export const reluConfig = nativeKernel(Relu, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.relu(backend.handle(x)), x.dtype));
