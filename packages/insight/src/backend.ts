// Selects the compute backend: `torch` (libtorch, native) when its addon is available, else TensorFlow.js's
// cpu backend with one clear warning (printed by @insight/tfjs-backend-torch itself, saying how to get libtorch).
// Everything else in Insight imports `tf` from here and never branches on the backend.
import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

export { tf };

/** True when libtorch's addon loaded and the `torch` backend is registered. */
export const torchAvailable: boolean = torchBackend.isAvailable;

/** How to get libtorch (the words the backend package's install step prints). */
export const HOW_TO_GET_LIBTORCH: string = torchBackend.HOW_TO_GET_LIBTORCH;

/** Why `torch` is unavailable, without the how-to (null when available), e.g. "the native addon could not be loaded (...)". */
export const torchUnavailableReason: string | null = torchBackend.unavailableReason === null ? null
  : torchBackend.unavailableReason.replace(HOW_TO_GET_LIBTORCH, '').replace(/^@insight\/tfjs-backend-torch:\s*/, '').trim().replace(/\.$/, '');

/**
 * tfjs-backend-cpu prints "Hi, looks like you are running TensorFlow.js in Node.js ... install our node backend"
 * on its first tensor write in Node (MathBackendCPU.write, through backend_util.warn). That advice is wrong here
 * (Insight's fast backend is torch, and the backend package has already said how to get libtorch), so the cpu
 * backend's first write happens here, with tfjs's PROD flag — the documented switch that silences tfjs's
 * backend_util.warn — on for that one write only: tfjs's other warnings still print.
 */
let cpuBannerConsumed = false;
function consumeCpuBanner(): void {
  const cpu = cpuBannerConsumed ? null : tf.findBackend('cpu');
  if (cpu === null) return;
  cpuBannerConsumed = true;
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    cpu.disposeData(cpu.write(new Float32Array(1), [1], 'float32'));
  } finally {
    env.set('PROD', prod);
  }
}

if (!torchAvailable) consumeCpuBanner();

/**
 * The precision of the torch backend's convolutions and matrix products ('float32', or 'bfloat16' mixed precision:
 * bfloat16 operands, float32 results); setting 'bfloat16' throws on a CPU without native bfloat16.
 */
export const { getComputePrecision, setComputePrecision, bfloat16Support } = torchBackend;
export type { ComputePrecision } from '@insight/tfjs-backend-torch';

/** Makes the best available backend active and returns its name ('torch' or 'cpu'). */
export async function initBackend(preferred?: 'torch' | 'cpu'): Promise<string> {
  const name = preferred ?? (torchAvailable ? 'torch' : 'cpu');
  if (name === 'torch' && !torchAvailable) {
    throw new Error(`The torch backend was requested but is unavailable. Reason: ${torchUnavailableReason}.`);
  }
  if (name === 'cpu') consumeCpuBanner();
  await tf.setBackend(name);
  await tf.ready();
  return tf.getBackend();
}
