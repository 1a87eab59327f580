// `import '@insight/tfjs-backend-torch'` registers the `torch` backend (priority 3, above cpu's 1) and makes it
// the active backend. Without the native addon (no libtorch) it warns once, saying how to get libtorch, and
// TensorFlow.js keeps running on its cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { TorchBackend } from './backend';
import { registerCpuKernels } from './cpu_kernels/register_cpu_kernels';
import { registerGradients } from './gradients/register_gradients';
import { binding, bindingError, HOW_TO_GET_LIBTORCH, requireBinding } from './binding';
import { registerAllKernels } from './register_all_kernels';
import { registerGradientTensorMethods } from './tensor_methods';
import { defaultThreadCount, getNumThreads, setNumThreads, THREADS_ENV } from './threads';

export const BACKEND_NAME = 'torch';
export { TorchBackend, getNumThreads, setNumThreads, THREADS_ENV, HOW_TO_GET_LIBTORCH };
export { nativeKernelNames } from './kernel_util';
export { FusedAdamOptimizer, fusedAdam } from './optimizers/fused_adam';
export {
  adamUpdate, adamUpdateAttrs, adamUpdateWithTensors, type AdamEpsilonConvention, type AdamSlots, type AdamStep, type AdamStepTensors,
} from './optimizers/adam_update';
export {
  FusedAdamUpdate, type FusedAdamUpdateAttrs, TorchBatchNormTraining, type TorchBatchNormTrainingAttrs,
  TorchBatchNormTrainingGrad, TorchConv2DBiasActivationGrad, type TorchConv2DBiasActivationAttrs, TorchReluGrad,
} from './kernel_names';
export { batchNormTraining, type BatchNormTrainingResult } from './batch_norm_training';
export { conv2dBiasActivation, type Conv2DBiasActivationOptions } from './conv2d_bias_activation';
export {
  bfloat16Support, COMPUTE_PRECISIONS, type ComputePrecision, getComputePrecision, setComputePrecision,
} from './precision';
export { captureFunction, setCaptureEnabled, type CapturedFunction, type CaptureStats } from './capture/captured_function';
export { ProcessGroup, DEFAULT_TIMEOUT_MS, type ProcessGroupOptions, type ReduceOp } from './distributed';

/**
 * What the addon did to glibc's allocator when it loaded: keeps freed tensor memory instead of returning it to the
 * kernel and faulting it in again every step (off with INSIGHT_MALLOC_TUNING=0; glibc's MALLOC_* variables win).
 */
export function mallocTuning(): string {
  return requireBinding().mallocTuning();
}

/** True when the native addon loaded and `torch` is registered. */
export const isAvailable = binding !== null;
/** Why the backend is unavailable (null when it is available). */
export const unavailableReason: string | null = bindingError;

// This package's own kernels also run on cpu (plain formulas), so fusedAdam and the fused gradients work there.
registerCpuKernels();
registerGradientTensorMethods();

if (binding !== null) {
  binding.setNumThreads(defaultThreadCount());
  // The engine creates the highest-priority backend on first use, normally after every import has run, so
  // the gradients registered then (the fused ReLU one and the corrections of tfjs-core's, gradients/) replace
  // tfjs-core's even where @tensorflow/tfjs-layers (whose bundle registers tfjs-core's gradients when loaded) is
  // imported after this package.
  tf.registerBackend(BACKEND_NAME, () => {
    registerGradients();
    return new TorchBackend();
  }, 3);
  registerAllKernels();
  // If a backend is already running (tensors were made before this import), switch now.
  if ((tf.engine() as unknown as { backendName: string | null }).backendName != null) void tf.setBackend(BACKEND_NAME);
} else if (!process.env.INSIGHT_QUIET_BACKEND_WARNING) {
  console.warn(`${bindingError}\nTensorFlow.js will run on its (much slower) cpu backend.`);
}
