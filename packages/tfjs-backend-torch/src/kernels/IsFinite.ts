import { IsFinite } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x is neither NaN nor ±Infinity. x: any shape and dtype -> bool, same shape.
export const isFiniteConfig = nativeKernel(IsFinite, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.isfinite(backend.handle(x)), 'bool'));
