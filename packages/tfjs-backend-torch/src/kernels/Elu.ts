import { Elu } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// x >= 0 ? x : exp(x) - 1.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const eluConfig = nativeKernel(Elu, (args) => unaryMath(Elu, args, (h) => aten.elu(h)));
