import { Pack, PackAttrs, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// xs: n tensors of one shape [d0..] -> [d0.., n (inserted at axis), ..].
export const packConfig = nativeKernel<PackAttrs>(Pack, ({ inputs, attrs, backend }) => {
  const xs = inputs as unknown as TensorInfo[];
  const { shape, dtype } = xs[0];
  for (const t of xs) {
    util.assertShapesMatch(shape, t.shape, 'All tensors passed to stack must have matching shapes');
    util.assert(dtype === t.dtype, () => 'All tensors passed to stack must have matching dtypes');
  }
  const axis = attrs.axis < 0 ? attrs.axis + shape.length + 1 : attrs.axis;
  const outShape = [...shape];
  outShape.splice(axis, 0, xs.length);
  return backend.makeOutput(aten.stack(xs.map((t) => backend.handle(t)), axis), dtype, outShape);
});
