import { Sign } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// -1, 0 or 1 by the sign of x; 0 for NaN and ±0, as tfjs.
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const signConfig = nativeKernel(Sign, (args) => unaryMath(Sign, args, (h) => aten.sign(h), true));
