import { NotEqual } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// a != b with numpy broadcasting -> bool; any comparison with NaN is false (NaN != x is true).
export const notEqualConfig = nativeKernel(NotEqual, ({ inputs: { a, b }, backend }) =>
  backend.makeOutput(aten.ne(backend.handle(a), backend.handle(b)), 'bool'));
