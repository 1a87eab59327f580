import { Pow } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { allFinite, binaryMath } from './elementwise_util';

// a ** b with numpy broadcasting -> a's dtype. int32 powers wrap modulo 2^32 and negative exponents give
// trunc(a ** b) (0, or ±1 for a = ±1), as tfjs stores Math.pow into an Int32Array.
// Math.pow(±1, b) is NaN for b = NaN or ±Infinity where C's pow gives 1: those are patched when b has any.
export const powConfig = nativeKernel(Pow, (args) => binaryMath(Pow, args, (a, b) => {
  const { backend } = args;
  const p = aten.pow(a, b);
  if (args.inputs.b.dtype !== 'float32' || allFinite(backend, b)) return p;
  backend.tmp(p);
  const one = backend.tmp(aten.eqScalar(backend.tmp(aten.abs(a)), 1));
  const nonFinite = backend.tmp(aten.logicalNot(backend.tmp(aten.isfinite(b))));
  return aten.maskedFill(p, backend.tmp(aten.logicalAnd(one, nonFinite)), NaN);
}));
