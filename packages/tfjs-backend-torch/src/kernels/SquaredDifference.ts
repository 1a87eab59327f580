import { SquaredDifference } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// (a - b)^2 with numpy broadcasting -> a's dtype (bool runs on cpu).
export const squaredDifferenceConfig = nativeKernel(SquaredDifference, (args) =>
  binaryMath(SquaredDifference, args, (a, b) => aten.square(args.backend.tmp(aten.sub(a, b)))));
