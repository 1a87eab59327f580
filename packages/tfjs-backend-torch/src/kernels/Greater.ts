import { Greater } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// a > b with numpy broadcasting -> bool; any comparison with NaN is false.
export const greaterConfig = nativeKernel(Greater, ({ inputs: { a, b }, backend }) =>
  backend.makeOutput(aten.gt(backend.handle(a), backend.handle(b)), 'bool'));
