import { Cumprod, CumprodAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { scan } from './scan';

// x: [d0..] -> running products along `axis` (exclusive: without the element itself; reverse: from the end).
export const cumprodConfig = nativeKernel<CumprodAttrs>(Cumprod, ({ inputs: { x }, attrs, backend }) =>
  scan(backend, x, attrs.axis, attrs.exclusive, attrs.reverse, aten.cumprod, 1));
