import { LogicalNot } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// !x. x: any shape and dtype -> bool; NaN counts as false (JS falsiness), so !NaN is true.
export const logicalNotConfig = nativeKernel(LogicalNot, ({ inputs: { x }, backend }) => {
  const h = backend.handle(x);
  const not = aten.logicalNot(h);
  if (x.dtype !== 'float32') return backend.makeOutput(not, 'bool');
  return backend.makeOutput(aten.logicalOr(backend.tmp(not), backend.tmp(aten.isnan(h))), 'bool');
});
