// The precision of the backend's convolutions and matrix products: 'float32' (the default) or 'bfloat16', mixed
// precision as PyTorch's CPU autocast does it. In 'bfloat16' every convolution (forward and both gradients) and matrix
// product takes its operands in bfloat16 and oneDNN computes with AVX512-BF16 (float32 accumulation). Activations and
// their gradients stay bfloat16 from one convolution through a bias add, BatchNorm, ReLU and max pooling to the next
// (stored so under a float32 tfjs tensor: kernels/compute_dtype.ts); filter gradients, matrix products and every
// other kernel's inputs are float32, so weights, optimizer state, BatchNorm statistics and losses keep full
// precision, and TensorFlow.js only ever sees (and reads) float32.
import { readFileSync } from 'node:fs';

export type ComputePrecision = 'float32' | 'bfloat16';
export const COMPUTE_PRECISIONS: readonly ComputePrecision[] = ['float32', 'bfloat16'];

let current: ComputePrecision = 'float32';

/** The CPU flags that give native bfloat16 dot products (oneDNN's avx512_core_bf16 and AMX kernels). */
const BF16_FLAGS = ['avx512_bf16', 'amx_bf16'];

/**
 * Whether this CPU computes bfloat16 natively, from the flags of /proc/cpuinfo (or the text given). Without them
 * oneDNN emulates bfloat16, slower than float32, so the backend refuses it.
 */
export function bfloat16Support(cpuinfo?: string): { supported: boolean; reason: string } {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return { supported: false, reason: 'the CPU flags cannot be read (/proc/cpuinfo is missing: not Linux)' };
    }
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  const found = BF16_FLAGS.filter((f) => flags.has(f));
  return found.length > 0
    ? { supported: true, reason: `the CPU has ${found.join(' and ')}` }
    : { supported: false, reason: `the CPU has neither ${BF16_FLAGS.join(' nor ')} (its flags in /proc/cpuinfo)` };
}

let support: { supported: boolean; reason: string } | null = null;

/**
 * Sets the precision of convolutions and matrix products for everything that runs afterwards. Throws, changing
 * nothing, for an unknown name or for 'bfloat16' on a CPU without native bfloat16.
 */
export function setComputePrecision(precision: ComputePrecision): void {
  if (!COMPUTE_PRECISIONS.includes(precision)) {
    throw new Error(`The compute precision must be one of ${COMPUTE_PRECISIONS.join(', ')}. ` +
      `Received: precision=${JSON.stringify(precision)}. Use 'float32' (exact) or 'bfloat16' (mixed precision).`);
  }
  if (precision === 'bfloat16') {
    support ??= bfloat16Support();
    if (!support.supported) {
      throw new Error(`bfloat16 compute needs a CPU with native bfloat16 dot products (AVX512-BF16 or AMX), ` +
        `otherwise it runs slower than float32. Received: precision='bfloat16' where ${support.reason}. ` +
        `Use 'float32' on this machine.`);
    }
  }
  current = precision;
}

export function getComputePrecision(): ComputePrecision {
  return current;
}
