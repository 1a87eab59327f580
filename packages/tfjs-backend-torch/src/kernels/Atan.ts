import { Atan } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// atan(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const atanConfig = nativeKernel(Atan, (args) => unaryMath(Atan, args, (h) => aten.atan(h)));
