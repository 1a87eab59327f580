import { OneHot, OneHotAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

// indices: int32 [d0..] -> [d0.., depth] in `dtype`: onValue at position indices[..], offValue elsewhere
// (an index outside [0, depth) gives a row of offValue). onValue and offValue as tfjs's cpu kernel stores them: in a
// Float32Array, then converted to `dtype` (scalarAs twice: 2^32 + 3 is 2^32 in float32, then 0 in int32).
export const oneHotConfig = nativeKernel<OneHotAttrs>(OneHot, ({ inputs: { indices }, attrs, backend }) => {
  const { depth, onValue, offValue, dtype } = attrs;
  const outShape = [...indices.shape, depth];
  const positions = backend.tmp(aten.arange(0, depth, 1, ScalarType.int32));
  const hot = backend.tmp(aten.eq(backend.tmp(aten.unsqueeze(backend.handle(indices), -1)), positions));
  const value = (v: number) => scalarAs(scalarAs(v, 'float32'), dtype);
  const off = backend.tmp(aten.full(outShape, value(offValue), ScalarType[dtype as 'float32']));
  return backend.makeOutput(aten.maskedFill(off, hot, value(onValue)), dtype, outShape);
});
