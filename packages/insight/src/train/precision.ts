// Mixed precision for training (`--precision bf16`): the torch backend computes convolutions and matrix products in
// bfloat16 and keeps activations in bfloat16 between convolution, bias, BatchNorm, ReLU and pooling, while weights,
// optimizer state, BatchNorm statistics, losses and validation stay float32 — PyTorch's CPU autocast, done by the
// backend (its src/precision.ts).
import { type ComputePrecision, getComputePrecision, setComputePrecision, bfloat16Support } from '../backend';
import { ruleError } from '../errors';
import type { Precision } from '../run/config_fields';

export type { Precision };

const BACKEND_PRECISION: Record<Precision, ComputePrecision> = { fp32: 'float32', bf16: 'bfloat16' };

/**
 * Refuses a precision this process cannot run, before anything is written: bf16 needs the torch backend and a CPU
 * with native bfloat16 (AVX512-BF16 or AMX; oneDNN emulates it elsewhere, slower than fp32).
 */
export function checkPrecision(precision: Precision, backend: string): void {
  if (precision === 'fp32') return;
  if (backend !== 'torch') {
    throw ruleError('INSIGHT_E_CONFIG', '--precision bf16 needs the torch backend (libtorch computes the bfloat16 kernels).',
      { precision, backend }, 'Train on the torch backend, or use --precision fp32.');
  }
  const support = bfloat16Support();
  if (!support.supported) {
    throw ruleError('INSIGHT_E_CONFIG', '--precision bf16 needs a CPU with native bfloat16 (AVX512-BF16 or AMX): elsewhere it runs slower than fp32.',
      { precision, cpu: support.reason }, 'Use --precision fp32 on this machine.');
  }
}

/** Runs `fn` with the backend's convolutions and matrix products in `precision`, restoring the previous one after. */
export async function withPrecision<T>(precision: Precision, fn: () => Promise<T>): Promise<T> {
  const previous = getComputePrecision();
  setComputePrecision(BACKEND_PRECISION[precision]);
  try {
    return await fn();
  } finally {
    setComputePrecision(previous);
  }
}
