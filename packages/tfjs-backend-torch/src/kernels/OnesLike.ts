import { OnesLike } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// Ones of x's shape and dtype; x's data is not read (nor uploaded). complex64 x runs on cpu.
export const onesLikeConfig = nativeKernel(OnesLike, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.full(x.shape, 1, ScalarType[x.dtype as 'float32']), x.dtype, x.shape));
