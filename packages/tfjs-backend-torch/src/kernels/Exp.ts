import { Exp } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// e^x. x: any shape and dtype -> float32 (ATen promotes int32 and bool), as tfjs's cpu kernel.
export const expConfig = nativeKernel(Exp, ({ inputs: { x }, backend }) =>
  backend.makeOutput(aten.exp(backend.handle(x)), 'float32'));
