import { Cast, CastAttrs } from '@tensorflow/tfjs-core';

import { isNativeDtype } from '../backend';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { castTo } from './elementwise_util';

// x as attrs.dtype, same shape: to bool is x != 0 (NaN -> true); float32 to int32 truncates, with NaN and
// ±Infinity -> 0 and wrapping modulo 2^32 (Int32Array.from). Same dtype aliases x, as Identity does.
// To complex64 or string the result must live in JS: cpu's kernel makes it.
export const castConfig = nativeKernel<CastAttrs>(Cast, (args) => {
  const { inputs: { x }, attrs: { dtype }, backend } = args;
  if (!isNativeDtype(dtype)) return runCpuKernel(Cast, args);
  if (dtype === x.dtype) return backend.alias(x);
  return backend.makeOutput(castTo(backend, backend.handle(x), dtype), dtype, x.shape);
});
