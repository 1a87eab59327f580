import { Log1p } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// ln(1 + x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const log1pConfig = nativeKernel(Log1p, (args) => unaryMath(Log1p, args, (h) => aten.log1p(h)));
