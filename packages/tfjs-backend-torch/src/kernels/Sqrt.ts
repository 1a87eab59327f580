import { Sqrt } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// sqrt(x); NaN below 0.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const sqrtConfig = nativeKernel(Sqrt, (args) => unaryMath(Sqrt, args, (h) => aten.sqrt(h)));
