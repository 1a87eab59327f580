import { Mod } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { allFinite, binaryMath, int32SafeDivisor } from './elementwise_util';

// a mod b with numpy broadcasting -> a's dtype; the result takes the divisor's sign (Python's %, ATen remainder).
// float32: x mod 0 = NaN, and x mod ±Infinity is x when the signs agree, else NaN (tfjs's (x % b + b) % b; ATen
// gives ±Infinity), patched when b has any. int32: x mod 0 = 0, as Int32Array stores NaN (ATen would throw
// on 0 and trap on INT_MIN mod -1).
export const modConfig = nativeKernel(Mod, (args) => binaryMath(Mod, args, (a, b) => {
  const { inputs, backend } = args;
  if (inputs.a.dtype === 'int32') return aten.remainder(a, backend.tmp(int32SafeDivisor(backend, b)));
  const r = aten.remainder(a, b);
  if (allFinite(backend, b)) return r;
  backend.tmp(r);
  const signsDiffer = backend.tmp(aten.ne(backend.tmp(aten.ltScalar(a, 0)), backend.tmp(aten.ltScalar(b, 0))));
  return aten.maskedFill(r, backend.tmp(aten.logicalAnd(backend.tmp(aten.isinf(b)), signsDiffer)), NaN);
}));
