import { ArgMax, ArgMaxAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { argReduce } from './arg_reduce';

// x: [d0..] -> int32 index of the first largest value along `axis` (that axis removed); NaNs skipped.
export const argMaxConfig = nativeKernel<ArgMaxAttrs>(ArgMax, ({ inputs: { x }, attrs, backend }) =>
  argReduce(backend, x, attrs.axis, true));
