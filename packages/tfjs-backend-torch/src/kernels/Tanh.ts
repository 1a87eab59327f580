import { Tanh } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// tanh(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const tanhConfig = nativeKernel(Tanh, (args) => unaryMath(Tanh, args, (h) => aten.tanh(h)));
