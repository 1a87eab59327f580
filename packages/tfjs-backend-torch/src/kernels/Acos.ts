import { Acos } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// acos(x); NaN outside [-1, 1].
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const acosConfig = nativeKernel(Acos, (args) => unaryMath(Acos, args, (h) => aten.acos(h)));
