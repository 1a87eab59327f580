import { backend_util, GatherNd } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { int32Const } from './const_util';

// params: [p0..p(r-1)], indices: int32 [i.., k] (k <= r) -> [i.., p(k)..p(r-1)]: each index row picks one
// slice params[j0, .., j(k-1)]. Rows become flat slice numbers (dot with the slice strides) for index_select;
// ATen's index tensors must be int64 for gather/index, which handles cannot hold, while index_select
// takes int32.
export const gatherNdConfig = nativeKernel(GatherNd, ({ inputs: { params, indices }, backend }) => {
  const [resultShape, numSlices, sliceSize, strides] = backend_util.prepareAndValidate(params, indices);
  if (numSlices === 0) {
    return backend.makeOutput(aten.empty(resultShape, ScalarType[params.dtype as 'float32']), params.dtype, resultShape);
  }
  const rows = backend.tmp(aten.reshape(backend.handle(indices), [numSlices, strides.length]));
  const flat = backend.tmp(aten.sum(backend.tmp(aten.mul(rows, int32Const(backend, strides))), [1], false,
    ScalarType.int32));
  const slices = backend.tmp(aten.reshape(backend.handle(params), [-1, sliceSize]));
  return backend.makeOutput(aten.reshape(backend.tmp(aten.indexSelect(slices, 0, flat)), resultShape),
    params.dtype, resultShape);
});
