import { RealDiv } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { binaryMath, int32Div } from './elementwise_util';

// a / b with numpy broadcasting -> a's dtype. float32: IEEE (x/0 = ±Infinity, 0/0 = NaN). int32 (only reached
// by calling the kernel directly: tf.div sends int32 to FloorDiv) truncates, with x/0 = 0 as Int32Array stores it.
export const realDivConfig = nativeKernel(RealDiv, (args) => binaryMath(RealDiv, args, (a, b) =>
  args.inputs.a.dtype === 'int32' ? int32Div(args.backend, a, b, 'trunc') : aten.div(a, b)));
