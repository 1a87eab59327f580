import { PadV2, PadV2Attrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

// x: [d0..] -> [p[0][0] + d0 + p[0][1], ..], the new cells set to constantValue as x's typed array stores it
// (scalarAs: float32 1e300 is Infinity, int32 wraps). A bool x padded with a value above 1 keeps that byte in tfjs:
// cpu makes it.
export const padV2Config = nativeKernel<PadV2Attrs>(PadV2, (args) => {
  const { inputs: { x }, attrs: { paddings }, backend } = args;
  const value = scalarAs(args.attrs.constantValue, x.dtype);
  if (x.dtype === 'bool' && value > 1) return runCpuKernel(PadV2, args);
  // ATen lists pads from the last axis backwards: [before_last, after_last, before_prev, ...].
  const pad = paddings.slice().reverse().flatMap(([before, after]) => [before, after]);
  return backend.makeOutput(aten.constantPad(backend.handle(x), pad, value), x.dtype,
    x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]));
});
