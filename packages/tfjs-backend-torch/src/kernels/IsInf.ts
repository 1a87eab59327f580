import { IsInf } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x is ±Infinity. x: any shape and dtype -> bool, same shape.
export const isInfConfig = nativeKernel(IsInf, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.isinf(backend.handle(x)), 'bool'));
