// Matrix products for BatchMatMul and _FusedMatMul. Debian's libtorch links the reference BLAS, so a
// single 2-D product runs as a 1x1 oneDNN convolution instead (measured ~6x faster at 64x1024x64):
// C[m,n] = sum_k A[m,k] B[k,n]  ==  conv(input A as [M,K,1,1], weight B^T as [N,K,1,1]) -> [M,N,1,1].
// Below ~64K multiply-adds the plain product is faster (measured: 64x64x10 in 18 us vs 37 us).
const MIN_CONV_MACS = 65536;
import { broadcast_util, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { computeHandle, computesInBfloat16, toFloat32 } from './compute_dtype';

export interface MatMulArgs {
  a: TensorInfo;          // [...batchA, M, K] ([..., K, M] when transposeA)
  b: TensorInfo;          // [...batchB, K, N] ([..., N, K] when transposeB)
  transposeA: boolean;
  transposeB: boolean;
  bias?: TensorInfo;      // broadcast against the result; a [N] bias rides in the convolution
}

/**
 * The product [...broadcast(batchA, batchB), M, N], bias added, and its shape; float32, computed in the compute
 * precision (precision.ts: in bfloat16, operands and a [N] bias are rounded and the result widened).
 */
export function batchMatMul(backend: TorchBackend, { a, b, transposeA, transposeB, bias }: MatMulArgs):
  { y: Handle; shape: number[] } {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) {
    throw new Error(`Error in matMul: inputs must have rank >= 2. Received: a.shape=[${a.shape}], ` +
      `b.shape=[${b.shape}]. Reshape vectors to [1, n] or [n, 1] first.`);
  }
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  util.assert(k === kb, () => `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ` +
    `${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...outer, m, n];
  // Integer and boolean operands (counts, one-hot selections) stay exact: only float32 products are rounded.
  const bf16 = computesInBfloat16() && a.dtype === 'float32' && b.dtype === 'float32';
  let ah = bf16 ? computeHandle(backend, a) : backend.handle(a);
  let bh = bf16 ? computeHandle(backend, b) : backend.handle(b);
  if (a.dtype !== 'float32') ah = backend.tmp(aten.to(ah, ScalarType.float32));
  if (b.dtype !== 'float32') bh = backend.tmp(aten.to(bh, ScalarType.float32));
  const bias1d = bias != null && bias.shape.length === 1 && bias.shape[0] === n;
  let y: Handle;
  if (util.sizeFromShape(outer) === 1 && m > 1 && k > 0 && n > 0 && m * k * n >= MIN_CONV_MACS) {
    const b1 = !bias1d ? null : bf16 ? computeHandle(backend, bias!) : backend.handle(bias!);
    const a2 = backend.tmp(aten.reshape(ah, transposeA ? [k, m] : [m, k]));
    const b2 = backend.tmp(aten.reshape(bh, transposeB ? [n, k] : [k, n]));
    const input = backend.tmp(aten.reshape(transposeA ? backend.tmp(aten.t(a2)) : a2, [m, k, 1, 1]));
    const weight = backend.tmp(aten.reshape(transposeB ? b2 : backend.tmp(aten.t(b2)), [n, k, 1, 1]));
    let conv = aten.convolution(input, weight, b1, [1, 1], [0, 0], [1, 1], false, [0, 0], 1);
    if (bf16) conv = toFloat32(backend, conv);
    y = aten.reshape(backend.tmp(conv), shape);
    if (bias != null && !bias1d) y = aten.add(backend.tmp(y), backend.handle(bias));
    return { y, shape };
  }
  const at = transposeA ? backend.tmp(aten.transpose(ah, -1, -2)) : ah;
  const bt = transposeB ? backend.tmp(aten.transpose(bh, -1, -2)) : bh;
  y = aten.matmul(at, bt);
  if (bf16) y = toFloat32(backend, y);
  if (bias != null) y = aten.add(backend.tmp(y), backend.handle(bias));
  return { y: backend.binding.shape(y).length === shape.length ? y : aten.reshape(backend.tmp(y), shape), shape };
}
