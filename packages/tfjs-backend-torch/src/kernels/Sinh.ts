import { Sinh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// sinh(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const sinhConfig = nativeKernel(Sinh, (args) => unaryMath(Sinh, args, (h) => aten.sinh(h)));
