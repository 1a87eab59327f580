import { Sin } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// sin(x).
// x: any shape -> same shape and dtype (int32 and bool x run on cpu, see unaryMath).
export const sinConfig = nativeKernel(Sin, (args) => unaryMath(Sin, args, (h) => aten.sin(h)));
