import { Asinh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// asinh(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const asinhConfig = nativeKernel(Asinh, (args) => unaryMath(Asinh, args, (h) => aten.asinh(h)));
