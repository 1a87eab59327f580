import { Step, StepAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

// x > 0 ? 1 : alpha, and NaN for NaN. x: any shape -> same shape and dtype (alpha as x's typed array stores it, see
// scalarAs; bool x runs on cpu, which stores alpha as Uint8). ceil(clamp(x, 0, 1)) is 1 for x > 0, 0 for x <= 0 and
// NaN for NaN.
export const stepConfig = nativeKernel<StepAttrs>(Step, (args) => {
  const { inputs: { x }, attrs: { alpha }, backend } = args;
  if (x.dtype === 'bool') return runCpuKernel(Step, args);
  const c = aten.clamp(backend.handle(x), 0, 1);
  if (x.dtype === 'float32') backend.tmp(aten.ceil_(c));
  if (alpha === 0) return backend.makeOutput(c, x.dtype);
  backend.tmp(c);
  return backend.makeOutput(aten.maskedFill(c, backend.tmp(aten.eqScalar(c, 0)), scalarAs(alpha, x.dtype)), x.dtype);
});
