// Registers this package's own kernels for tfjs's `cpu` backend, with the plain formulas (one file per kernel,
// named after it). index.ts calls this on import, with or without the native addon, so code that runs these
// kernels (fusedAdam, Insight's optimizers, the fused Relu gradient) works on cpu too.
import { KernelConfig, registerKernel } from '@tensorflow/tfjs-core';

import { fusedAdamUpdateCpuConfig } from './FusedAdamUpdate';
import { torchReluGradCpuConfig } from './TorchReluGrad';

const cpuKernelConfigs: KernelConfig[] = [
  fusedAdamUpdateCpuConfig,
  torchReluGradCpuConfig,
];

export function registerCpuKernels(): void {
  for (const config of cpuKernelConfigs) registerKernel(config);
}
