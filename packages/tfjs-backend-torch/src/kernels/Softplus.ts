import { Softplus } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// tfjs returns x itself above -ln(2^-23) - 2 (where ln(1 + e^x) == x in float32); ATen's threshold does the same.
const THRESHOLD = -(Math.log(1.1920928955078125e-7) + 2);

// ln(1 + e^x). x: any shape -> same shape and dtype (int32 truncated; bool runs on cpu).
export const softplusConfig = nativeKernel(Softplus, (args) =>
  unaryMath(Softplus, args, (h) => aten.softplus(h, 1, THRESHOLD)));
