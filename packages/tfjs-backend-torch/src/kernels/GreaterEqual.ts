import { GreaterEqual } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// a >= b with numpy broadcasting -> bool; any comparison with NaN is false.
export const greaterEqualConfig = nativeKernel(GreaterEqual, ({ inputs: { a, b }, backend }) =>
  backend.makeOutput(aten.ge(backend.handle(a), backend.handle(b)), 'bool'));
