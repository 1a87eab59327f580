import { Selu } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// scale * (x >= 0 ? x : alpha * (exp(x) - 1)), the same constants as tfjs.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const seluConfig = nativeKernel(Selu, (args) => unaryMath(Selu, args, (h) => aten.selu(h)));
