import { Round } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// x rounded half to even (banker's rounding, as tfjs); int32 unchanged.
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const roundConfig = nativeKernel(Round, (args) => unaryMath(Round, args, (h) => aten.round(h), true));
