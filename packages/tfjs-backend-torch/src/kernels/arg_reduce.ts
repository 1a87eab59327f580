// Shared by ArgMax and ArgMin: ATen's argmax/argmin with tfjs's handling of ties, NaN and bool.
import { TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { TorchBackend } from '../backend';

/**
 * x: [d0..] -> int32 index of the first max (min) along `axis`, that axis removed. Like the cpu kernel,
 * NaNs are skipped (the scan keeps x[0] unless a later value compares greater), so a leading NaN gives 0.
 */
export function argReduce(backend: TorchBackend, x: TensorInfo, axisAttr: number | number[], largest: boolean):
  TensorInfo {
  const axis = util.parseAxisParam(axisAttr, x.shape)[0];
  const outShape = x.shape.filter((_, i) => i !== axis);
  let h = backend.handle(x);
  if (x.dtype === 'bool') h = backend.tmp(aten.to(h, ScalarType.int32));
  if (x.dtype !== 'float32') {
    return backend.makeOutput((largest ? aten.argmax : aten.argmin)(h, axis), 'int32', outShape);
  }
  const nan = backend.tmp(aten.isnan(h));
  const skipped = backend.tmp(aten.maskedFill(h, nan, largest ? -Infinity : Infinity));
  const idx = backend.tmp((largest ? aten.argmax : aten.argmin)(skipped, axis));
  const leadingNan = backend.tmp(aten.select(nan, axis, 0));
  return backend.makeOutput(aten.maskedFill(idx, leadingNan, 0), 'int32', outShape);
}
