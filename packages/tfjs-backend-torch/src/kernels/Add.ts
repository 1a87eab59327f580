import { Add, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { nativeKernel } from '../kernel_util';
import { computeHandle, keptPair } from './compute_dtype';

// a + b with numpy broadcasting; ATen's type promotion matches tfjs for matching dtypes. A bfloat16-stored activation
// (compute_dtype.ts) plus a per-channel float32 vector (a layer's bias: PyTorch's autocast adds it inside the
// convolution) stays bfloat16, as does the sum of two such activations; any other mix is computed in float32.
export const addConfig = nativeKernel(Add, ({ inputs: { a, b }, backend }) => {
  const [ah, bh] = operands(backend, a, b);
  return backend.makeOutput(aten.add(ah, bh));
});

function operands(backend: TorchBackend, a: TensorInfo, b: TensorInfo): [Handle, Handle] {
  const [a16, b16] = [backend.isBfloat16(a), backend.isBfloat16(b)];
  if (a16 && isChannelVector(b, a)) return [backend.keptHandle(a), computeHandle(backend, b)];
  if (b16 && isChannelVector(a, b)) return [computeHandle(backend, a), backend.keptHandle(b)];
  return keptPair(backend, a, b);
}

/** v is float32 with one value per channel (last axis) of x: [C], [1,C], [1,1,1,C]... */
function isChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const channels = x.shape[x.shape.length - 1];
  return v.dtype === 'float32' && v.shape.length > 0 && v.shape[v.shape.length - 1] === channels &&
    util.sizeFromShape(v.shape) === channels && v.shape.length <= x.shape.length;
}
