import { Select, upcastType } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { Handle } from '../binding';
import { nativeKernel } from '../kernel_util';
import { castTo } from './elementwise_util';

// condition ? t : e. t, e: one shape S; condition: S (tf.where broadcasts first), or [S[0]] choosing whole rows
// when rank(S) > 1. -> S, upcastType(t, e). A non-bool condition selects where it equals 1, as tfjs's cpu kernel.
export const selectConfig = nativeKernel(Select, ({ inputs: { condition, t, e }, backend }) => {
  const dtype = upcastType(t.dtype, e.dtype);
  let c = backend.handle(condition);
  if (condition.dtype !== 'bool') c = backend.tmp(aten.eqScalar(c, 1));
  if (condition.shape.length === 1 && t.shape.length > 1) {
    c = backend.tmp(aten.reshape(c, [condition.shape[0], ...t.shape.slice(1).map(() => 1)]));
  }
  const as = (h: Handle, from: string) => (from === dtype ? h : backend.tmp(castTo(backend, h, dtype)));
  const out = aten.where(c, as(backend.handle(t), t.dtype), as(backend.handle(e), e.dtype));
  return backend.makeOutput(out, dtype, t.shape);
});
