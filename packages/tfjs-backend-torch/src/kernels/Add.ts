import { Add } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// a + b with numpy broadcasting; ATen's type promotion matches tfjs for matching dtypes.
export const addConfig = nativeKernel(Add, ({ inputs: { a, b }, backend }) =>
  backend.makeOutput(aten.add(backend.handle(a), backend.handle(b))));
