import { Less } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// a < b with numpy broadcasting -> bool; any comparison with NaN is false.
export const lessConfig = nativeKernel(Less, ({ inputs: { a, b }, backend }) =>
  backend.makeOutput(aten.lt(backend.handle(a), backend.handle(b)), 'bool'));
