import { Bincount, BincountAttrs, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: int32 of any shape, read flat (tf.image.threshold sends [h, w, 1]), weights: as many values (or [0]: count each
// value once) -> [size] in weights' dtype: out[v] = the sum of weights[i] over x[i] = v. Values outside [0, size) count nowhere: they go to an extra bin that is cut off
// (tfjs's cpu kernel skips values >= size and throws for negative ones; here those are skipped too). One index_add,
// so a histogram of a large tensor (int8 calibration) never leaves native memory.
export const bincountConfig = nativeKernel<BincountAttrs>(Bincount, ({ inputs: { x, weights }, attrs: { size }, backend }) => {
  const dtype = weights.dtype as 'float32' | 'int32';
  const xs = backend.tmp(aten.reshape(backend.handle(x), [-1]));
  const outside = backend.tmp(aten.logicalOr(backend.tmp(aten.ltScalar(xs, 0)), backend.tmp(aten.geScalar(xs, size))));
  const index = backend.tmp(aten.to(backend.tmp(aten.maskedFill(xs, outside, size)), ScalarType.int64));
  const values = util.sizeFromShape(weights.shape) > 0
    ? backend.tmp(aten.to(backend.tmp(aten.reshape(backend.handle(weights), [-1])), ScalarType[dtype]))
    : backend.tmp(aten.full([util.sizeFromShape(x.shape)], 1, ScalarType[dtype]));
  const bins = backend.tmp(aten.indexAdd(backend.tmp(aten.full([size + 1], 0, ScalarType[dtype])), 0, index, values));
  return backend.makeOutput(aten.contiguous(backend.tmp(aten.narrow(bins, 0, 0, size))), dtype, [size]);
});
