// Registers every kernel for `torch`: the native ones in `nativeKernelConfigs` (one file per kernel in
// kernels/, named after it), and for each other kernel that tfjs-backend-cpu has, a fallback that runs the
// cpu kernel on copied data (see fallback.ts).
import { getKernelsForBackend, KernelConfig, registerKernel } from '@tensorflow/tfjs-core';

import { fallbackKernel } from './fallback';
import { addConfig } from './kernels/Add';
import { identityConfig } from './kernels/Identity';
import { reluConfig } from './kernels/Relu';
import { reshapeConfig } from './kernels/Reshape';

export const nativeKernelConfigs: KernelConfig[] = [
  // shape and layout
  identityConfig,
  reshapeConfig,
  // elementwise math
  addConfig,
  // activations
  reluConfig,
  // convolution, pooling, matmul, normalisation
];

export function registerAllKernels(): void {
  const native = new Set<string>();
  for (const config of nativeKernelConfigs) {
    registerKernel(config);
    native.add(config.kernelName);
  }
  for (const cpuConfig of getKernelsForBackend('cpu') as KernelConfig[]) {
    if (!native.has(cpuConfig.kernelName)) registerKernel(fallbackKernel(cpuConfig));
  }
}
