import { Prod, ProdAttrs, upcastType } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { noReduction, reduceFlattened, reduction } from './reduce_util';

// x: [d0..] -> the product over `axis` (null: all; keepDims keeps them as 1s). float32 stays float32; int32
// and bool give int32. ATen's prod takes one dim, so several axes are flattened into one first.
export const prodConfig = nativeKernel<ProdAttrs>(Prod, ({ inputs: { x }, attrs, backend }) => {
  const dtype = upcastType(x.dtype, 'int32');
  const { axes, outShape } = reduction(attrs.axis, x.shape, attrs.keepDims);
  if (axes.length === 0) return noReduction(backend, x, dtype);
  const p = backend.tmp(reduceFlattened(backend, backend.handle(x), x.shape, axes,
    (h, dim) => aten.prod(h, dim, false, ScalarType[dtype as 'float32'])));
  return backend.makeOutput(aten.reshape(p, outShape), dtype, outShape);
});
