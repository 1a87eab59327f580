import { Log } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// ln(x); NaN below 0, -Infinity at 0.
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const logConfig = nativeKernel(Log, (args) => unaryMath(Log, args, (h) => aten.log(h)));
