import { Cos } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// cos(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const cosConfig = nativeKernel(Cos, (args) => unaryMath(Cos, args, (h) => aten.cos(h)));
