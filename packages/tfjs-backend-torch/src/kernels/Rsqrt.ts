import { Rsqrt } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// 1 / sqrt(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const rsqrtConfig = nativeKernel(Rsqrt, (args) => unaryMath(Rsqrt, args, (h) => aten.rsqrt(h)));
