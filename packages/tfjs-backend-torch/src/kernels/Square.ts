import { Square } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// x * x. x: any shape -> same shape and dtype; bool x runs on cpu, see unaryMath. int32 wraps modulo 2^32
// beyond 46340^2 (tfjs's cpu kernel returns a Float32Array that its int32 tensor then holds).
export const squareConfig = nativeKernel(Square, (args) => unaryMath(Square, args, (h) => aten.square(h), true));
