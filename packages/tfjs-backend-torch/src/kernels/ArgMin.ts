import { ArgMin, ArgMinAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { argReduce } from './arg_reduce';

// x: [d0..] -> int32 index of the first smallest value along `axis` (that axis removed); NaNs skipped.
export const argMinConfig = nativeKernel<ArgMinAttrs>(ArgMin, ({ inputs: { x }, attrs, backend }) =>
  argReduce(backend, x, attrs.axis, false));
