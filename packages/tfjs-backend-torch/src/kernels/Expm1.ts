import { Expm1 } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// exp(x) - 1.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const expm1Config = nativeKernel(Expm1, (args) => unaryMath(Expm1, args, (h) => aten.expm1(h)));
