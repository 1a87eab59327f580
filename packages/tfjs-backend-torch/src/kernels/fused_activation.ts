// The activations that tfjs fuses into FusedConv2D, FusedDepthwiseConv2D and _FusedMatMul, applied to a
// freshly made native result (so in-place variants are safe where used).
import { TensorInfo } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { leakyReluOf } from './elementwise_util';

export function applyActivation(backend: TorchBackend, y: Handle, activation: string | undefined,
  preluWeights: TensorInfo | undefined, leakyreluAlpha: number | undefined): Handle {
  if ((activation ?? 'linear') === 'linear') return y;
  backend.tmp(y);  // every branch returns a new handle (in-place ops too); y's own handle is freed
  switch (activation) {
    case 'relu':
      return aten.relu_(y);
    case 'relu6':
      return aten.hardtanh_(y, 0, 6);
    case 'elu':
      return aten.elu(y);
    case 'sigmoid':
      return aten.sigmoid_(y);
    case 'leakyrelu':
      return leakyReluOf(backend, y, leakyreluAlpha ?? 0.2);
    case 'prelu': {
      // prelu(x) = x where x >= 0, else alpha * x (alpha broadcasts against y).
      const alpha = backend.handle(preluWeights!);
      const neg = backend.tmp(aten.mul(y, alpha));
      const pos = backend.tmp(aten.geScalar(y, 0));
      return aten.where(pos, y, neg);
    }
    default:
      throw new Error(`tfjs-backend-torch: unsupported fused activation. Received: activation=${activation}. ` +
        'Use one of linear, relu, relu6, elu, sigmoid, leakyrelu, prelu.');
  }
}
