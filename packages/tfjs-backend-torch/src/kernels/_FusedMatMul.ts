import { _FusedMatMul, _FusedMatMulAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { applyActivation } from './fused_activation';
import { batchMatMul } from './matmul_impl';

// a @ b + bias, then activation (Dense layers): [batch, M, K] x [batch, K, N] -> [batch, M, N].
export const fusedMatMulConfig = nativeKernel<_FusedMatMulAttrs>(_FusedMatMul, ({ inputs, attrs, backend }) => {
  const { a, b, bias, preluActivationWeights } = inputs;
  const { y, shape } = batchMatMul(backend, { a, b, transposeA: attrs.transposeA, transposeB: attrs.transposeB, bias });
  return backend.makeOutput(applyActivation(backend, y, attrs.activation, preluActivationWeights,
    attrs.leakyreluAlpha), 'float32', shape);
});
