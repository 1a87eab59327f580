import { Relu } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// max(x, 0), keeping x's dtype (and a bfloat16-stored activation's precision: compute_dtype.ts).
export const reluConfig = nativeKernel(Relu, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.relu(backend.keptHandle(x)), x.dtype));
