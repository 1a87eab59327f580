import { Atan2 } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { binaryMath } from './elementwise_util';

// atan2(a, b) with numpy broadcasting -> a's dtype. int32 runs on cpu: tfjs truncates a float64 atan2, which
// float32 can round onto an integer (see unaryMath).
export const atan2Config = nativeKernel(Atan2, (args) => (args.inputs.a.dtype === 'int32'
  ? runCpuKernel(Atan2, args) : binaryMath(Atan2, args, (a, b) => aten.atan2(a, b))));
