import { Abs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// |x|. x: any shape -> same shape and dtype; bool x runs on cpu, see unaryMath. int32 |INT_MIN| wraps to INT_MIN
// (tfjs's cpu kernel returns 2^31, in a Float32Array that its int32 tensor then holds).
export const absConfig = nativeKernel(Abs, (args) => unaryMath(Abs, args, (h) => aten.abs(h), true));
