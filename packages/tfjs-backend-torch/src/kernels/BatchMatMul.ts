import { BatchMatMul, BatchMatMulAttrs } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { batchMatMul } from './matmul_impl';

// a: [...batchA, M, K], b: [...batchB, K, N] (batch dims broadcast; optional transposes) -> [batch, M, N].
export const batchMatMulConfig = nativeKernel<BatchMatMulAttrs>(BatchMatMul, ({ inputs: { a, b }, attrs, backend }) => {
  const { y, shape } = batchMatMul(backend, { a, b, transposeA: attrs.transposeA, transposeB: attrs.transposeB });
  // The product is computed in float32; int32 inputs give an int32 result, as on cpu.
  if (a.dtype === 'int32') return backend.makeOutput(aten.to(backend.tmp(y), ScalarType.int32), 'int32', shape);
  return backend.makeOutput(y, 'float32', shape);
});
