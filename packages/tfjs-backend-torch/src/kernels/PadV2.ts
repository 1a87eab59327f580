import { PadV2, PadV2Attrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..] -> [p[0][0] + d0 + p[0][1], ..], the new cells set to constantValue.
export const padV2Config = nativeKernel<PadV2Attrs>(PadV2, ({ inputs: { x }, attrs, backend }) => {
  const { paddings, constantValue } = attrs;
  // ATen lists pads from the last axis backwards: [before_last, after_last, before_prev, ...].
  const pad = paddings.slice().reverse().flatMap(([before, after]) => [before, after]);
  const value = x.dtype === 'int32' ? Math.trunc(constantValue) : constantValue;
  return backend.makeOutput(aten.constantPad(backend.handle(x), pad, value), x.dtype,
    x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]));
});
