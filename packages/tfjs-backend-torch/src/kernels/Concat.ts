import { backend_util, Concat, ConcatAttrs, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

// xs: n tensors equal in every axis but `axis` -> their concatenation along it, in xs[0]'s dtype. Empty
// inputs are dropped first, as the cpu kernel does (their other axes need not match).
export const concatConfig = nativeKernel<ConcatAttrs>(Concat, ({ inputs, attrs, backend }) => {
  const xs = inputs as unknown as TensorInfo[];
  const axis = util.parseAxisParam(attrs.axis, xs[0].shape)[0];
  backend_util.assertParamsConsistent(xs.map((t) => t.shape), axis);
  const outShape = backend_util.computeOutShape(xs.map((t) => t.shape), axis);
  const dtype = xs[0].dtype;
  const nonEmpty = xs.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (util.sizeFromShape(outShape) === 0 || nonEmpty.length === 0) {
    return backend.makeOutput(aten.empty(outShape, ScalarType[dtype as 'float32']), dtype, outShape);
  }
  if (nonEmpty.length === 1) return backend.alias(nonEmpty[0], outShape);
  const h = backend.tmp(aten.cat(nonEmpty.map((t) => backend.handle(t)), axis));
  return backend.makeOutput(aten.to(h, ScalarType[dtype as 'float32']), dtype, outShape);
});
