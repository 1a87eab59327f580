import { Ceil } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// ceil(x); int32 unchanged.
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const ceilConfig = nativeKernel(Ceil, (args) => unaryMath(Ceil, args, (h) => aten.ceil(h), true));
