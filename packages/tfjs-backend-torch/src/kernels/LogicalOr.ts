import { LogicalOr } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';


// a || b with numpy broadcasting, a, b: bool -> bool. Other dtypes run on cpu, where tfjs stores the
// JS value of `a || b` (not 0/1).
export const logicalOrConfig = nativeKernel(LogicalOr, (args) => {
  const { inputs: { a, b }, backend } = args;
  if (a.dtype !== 'bool' || b.dtype !== 'bool') return runCpuKernel(LogicalOr, args);
  return backend.makeOutput(aten.logicalOr(backend.handle(a), backend.handle(b)), 'bool');
});
