import { Atanh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// atanh(x); ±Infinity at ±1, NaN outside.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const atanhConfig = nativeKernel(Atanh, (args) => unaryMath(Atanh, args, (h) => aten.atanh(h)));
