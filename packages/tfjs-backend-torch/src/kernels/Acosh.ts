import { Acosh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// acosh(x); NaN below 1.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const acoshConfig = nativeKernel(Acosh, (args) => unaryMath(Acosh, args, (h) => aten.acosh(h)));
