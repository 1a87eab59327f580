import { Erf } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// erf(x), exact (tfjs's cpu kernel uses a polynomial with |error| < 1.5e-7).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const erfConfig = nativeKernel(Erf, (args) => unaryMath(Erf, args, (h) => aten.erf(h)));
