import { Unpack, UnpackAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// value: [.., n at axis, ..] -> n tensors of the shape without that axis (views of value).
export const unpackConfig = nativeKernel<UnpackAttrs>(Unpack, ({ inputs: { value }, attrs, backend }) => {
  const axis = attrs.axis < 0 ? attrs.axis + value.shape.length : attrs.axis;
  const outShape = value.shape.filter((_, i) => i !== axis);
  return aten.unbind(backend.handle(value), axis).map((h) => backend.makeOutput(h, value.dtype, outShape));
});
