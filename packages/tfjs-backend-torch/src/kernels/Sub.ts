import { Sub } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// a - b with numpy broadcasting -> a's dtype. int32 wraps as in tfjs; bool runs on cpu (ATen refuses bool -).
export const subConfig = nativeKernel(Sub, (args) => binaryMath(Sub, args, (a, b) => aten.sub(a, b)));
