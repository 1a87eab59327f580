import { Neg } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// -x (int32 wraps: -INT_MIN is INT_MIN, as Int32Array stores 2^31).
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const negConfig = nativeKernel(Neg, (args) => unaryMath(Neg, args, (h) => aten.neg(h), true));
