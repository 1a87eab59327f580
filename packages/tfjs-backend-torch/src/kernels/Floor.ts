import { Floor } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { unaryMath } from './elementwise_util';

// floor(x); int32 unchanged.
// x: any shape -> same shape and dtype (int32 exact; bool x runs on cpu, see unaryMath).
export const floorConfig = nativeKernel(Floor, (args) => unaryMath(Floor, args, (h) => aten.floor(h), true));
