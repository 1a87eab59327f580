import { Minimum } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// min(a, b) with numpy broadcasting -> a's dtype; NaN if either is NaN, as Math.min.
export const minimumConfig = nativeKernel(Minimum, (args) =>
  binaryMath(Minimum, args, (a, b) => aten.minimum(a, b), true));
