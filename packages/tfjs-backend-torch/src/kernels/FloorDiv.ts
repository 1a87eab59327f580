import { FloorDiv } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';
import { allFinite, int32Div, jsToInt32 } from './elementwise_util';

// floor(a / b) with numpy broadcasting -> int32 for every input dtype, as tfjs's cpu kernel. Division by zero
// gives 0 (Int32Array stores ±Infinity and NaN as 0); float quotients beyond int32 wrap modulo 2^32 like JS.
export const floorDivConfig = nativeKernel(FloorDiv, (args) => {
  const { inputs: { a, b }, backend } = args;
  if (a.dtype !== b.dtype || a.dtype === 'bool') return runCpuKernel(FloorDiv, args);
  const ha = backend.handle(a);
  const hb = backend.handle(b);
  if (a.dtype === 'int32') return backend.makeOutput(int32Div(backend, ha, hb, 'floor'), 'int32');
  // ATen's floor division is the floor of the exact quotient, as JS's double quotient is for float32 inputs,
  // except that it gives -1 for x / ±Infinity with opposite signs, where JS gives floor(-0) = 0.
  let q = backend.tmp(aten.divMode(ha, hb, 'floor'));
  if (!allFinite(backend, hb)) {
    q = backend.tmp(aten.where(backend.tmp(aten.isinf(hb)), backend.tmp(aten.floor(backend.tmp(aten.div(ha, hb)))), q));
  }
  return backend.makeOutput(jsToInt32(backend, q), 'int32');
});
