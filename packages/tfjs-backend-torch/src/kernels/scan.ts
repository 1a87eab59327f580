// Shared by Cumsum and Cumprod: ATen's inclusive forward scans with tfjs's `exclusive` and `reverse`.
import { TensorInfo, upcastType } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { Handle } from '../binding';

/**
 * x: [d0..] -> the running sum (product) along `axis`, same shape. float32 stays float32; int32 and bool
 * give int32. `reverse` scans from the end; `exclusive` leaves each element out of its own result (the
 * first result is the identity), done by shifting x one step along the axis before an inclusive scan.
 */
export function scan(backend: TorchBackend, x: TensorInfo, axisAttr: number, exclusive: boolean, reverse: boolean,
  op: (h: Handle, dim: number, dtype: number) => Handle, identity: number): TensorInfo {
  const rank = x.shape.length;
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  const dtype = upcastType(x.dtype, 'int32');
  const n = x.shape[axis];
  let h = backend.handle(x);
  if (reverse) h = backend.tmp(aten.flip(h, [axis]));
  if (exclusive && n > 0) {
    // [x0 .. x(n-2)] with the identity in front, padded along `axis` (ATen lists pads from the last axis).
    const pad = new Array(2 * (rank - axis)).fill(0);
    pad[pad.length - 2] = 1;
    h = backend.tmp(aten.constantPad(backend.tmp(aten.narrow(h, axis, 0, n - 1)), pad, identity));
  }
  h = op(h, axis, ScalarType[dtype as 'float32']);
  if (reverse) h = aten.flip(backend.tmp(h), [axis]);
  return backend.makeOutput(h, dtype, x.shape);
}
