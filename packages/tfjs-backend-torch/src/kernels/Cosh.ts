import { Cosh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// cosh(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const coshConfig = nativeKernel(Cosh, (args) => unaryMath(Cosh, args, (h) => aten.cosh(h)));
