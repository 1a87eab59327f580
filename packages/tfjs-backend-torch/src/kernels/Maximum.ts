import { Maximum } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// max(a, b) with numpy broadcasting -> a's dtype; NaN if either is NaN, as Math.max.
export const maximumConfig = nativeKernel(Maximum, (args) =>
  binaryMath(Maximum, args, (a, b) => aten.maximum(a, b), true));
