import { Cumsum, CumsumAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { scan } from './scan';

// x: [d0..] -> running sums along `axis` (exclusive: without the element itself; reverse: from the end).
export const cumsumConfig = nativeKernel<CumsumAttrs>(Cumsum, ({ inputs: { x }, attrs, backend }) =>
  scan(backend, x, attrs.axis, attrs.exclusive, attrs.reverse, aten.cumsum, 0));
