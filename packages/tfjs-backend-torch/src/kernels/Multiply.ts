import { Multiply } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// a * b with numpy broadcasting -> a's dtype (bool * bool is logical and, 0/1 as in tfjs).
export const multiplyConfig = nativeKernel(Multiply, (args) =>
  binaryMath(Multiply, args, (a, b) => aten.mul(a, b), true));
