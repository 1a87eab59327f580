import { Sigmoid } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// 1 / (1 + exp(-x)).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const sigmoidConfig = nativeKernel(Sigmoid, (args) => unaryMath(Sigmoid, args, (h) => aten.sigmoid(h)));
