// Rounding to and from the compute precision (precision.ts) around a convolution or matrix product.
import { aten, ScalarType } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { getComputePrecision } from '../precision';

/** True when convolutions and matrix products compute in bfloat16. */
export function computesInBfloat16(): boolean {
  return getComputePrecision() === 'bfloat16';
}

/** A float32 operand rounded to bfloat16 (memory layout kept; freed with the kernel). */
export function toBfloat16(backend: TorchBackend, h: Handle): Handle {
  return backend.tmp(aten.to(h, ScalarType.bfloat16));
}

/** A bfloat16 result widened to float32 (memory layout kept); the bfloat16 one is freed with the kernel. */
export function toFloat32(backend: TorchBackend, h: Handle): Handle {
  return aten.to(backend.tmp(h), ScalarType.float32);
}
