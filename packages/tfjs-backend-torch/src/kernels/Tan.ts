import { Tan } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// tan(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const tanConfig = nativeKernel(Tan, (args) => unaryMath(Tan, args, (h) => aten.tan(h)));
