import { Asin } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// asin(x); NaN outside [-1, 1].
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const asinConfig = nativeKernel(Asin, (args) => unaryMath(Asin, args, (h) => aten.asin(h)));
