import { Relu6 } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// min(max(x, 0), 6); NaN stays NaN (clamp propagates it, as Math.max/min do).
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const relu6Config = nativeKernel(Relu6, (args) => unaryMath(Relu6, args, (h) => aten.clamp(h, 0, 6), true));
