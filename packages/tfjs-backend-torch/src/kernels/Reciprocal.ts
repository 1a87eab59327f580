import { Reciprocal } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// 1 / x; ±Infinity at ±0.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const reciprocalConfig = nativeKernel(Reciprocal, (args) =>
  unaryMath(Reciprocal, args, (h) => aten.reciprocal(h)));
