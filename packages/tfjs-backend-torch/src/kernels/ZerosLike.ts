import { ZerosLike } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// Zeros of x's shape and dtype; x's data is not read (nor uploaded). complex64 x runs on cpu.
export const zerosLikeConfig = nativeKernel(ZerosLike, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.full(x.shape, 0, ScalarType[x.dtype as 'float32']), x.dtype, x.shape));
