import { IsNan } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x is NaN. x: any shape and dtype -> bool, same shape.
export const isNanConfig = nativeKernel(IsNan, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.isnan(backend.handle(x)), 'bool'));
