// The compute precision (precision.ts) inside kernels. While computing in bfloat16, convolutions take their operands
// in bfloat16 — activations already stored so by the kernel before (TorchBackend.keptHandle), others rounded now —
// and leave their results (activations and input gradients) in bfloat16; ReLU, max pooling, their gradients and a
// per-channel bias add keep that precision, so activations cross no cast between layers, as under PyTorch's
// autocast; so does training-mode BatchNorm (float32 statistics). Filter gradients and matrix products are widened to
// float32; every other kernel reads float32.
import { TensorInfo } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { getComputePrecision } from '../precision';

/** True when convolutions and matrix products compute in bfloat16. */
export function computesInBfloat16(): boolean {
  return getComputePrecision() === 'bfloat16';
}

/** The ATen dtype convolutions and matrix products compute in now. */
export function computeScalarType(): number {
  return computesInBfloat16() ? ScalarType.bfloat16 : ScalarType.float32;
}

/** `info`'s native tensor in the compute precision (float32 input; a rounded copy is freed with the kernel). */
export function computeHandle(backend: TorchBackend, info: TensorInfo): Handle {
  if (!computesInBfloat16()) return backend.handle(info);
  const h = backend.keptHandle(info);
  return backend.isBfloat16(info) ? h : backend.tmp(aten.to(h, ScalarType.bfloat16));
}

/** Two float32 inputs of an elementwise kernel in one precision: as stored when alike, else both float32. */
export function keptPair(backend: TorchBackend, a: TensorInfo, b: TensorInfo): [Handle, Handle] {
  return backend.isBfloat16(a) === backend.isBfloat16(b) ? [backend.keptHandle(a), backend.keptHandle(b)]
    : [backend.handle(a), backend.handle(b)];
}

/** A bfloat16 result widened to float32 (memory layout kept); the bfloat16 one is freed with the kernel. */
export function toFloat32(backend: TorchBackend, h: Handle): Handle {
  return aten.to(backend.tmp(h), ScalarType.float32);
}
