import { Transpose, TransposeAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..dn-1] -> [d_perm[0]..d_perm[n-1]]. A strided view; readers copy it to contiguous.
export const transposeConfig = nativeKernel<TransposeAttrs>(Transpose, ({ inputs: { x }, attrs, backend }) =>
  backend.makeOutput(aten.permute(backend.handle(x), attrs.perm), x.dtype, attrs.perm.map((p) => x.shape[p])));
