// Every gradient this package puts in place of tfjs-core's, in one list: ReLU's through one fused kernel, BatchNorm's
// computing only the derivatives asked for, and the corrections of tfjs-core 4.22 gradients that are wrong or throw
// (each file's header names the defect). They are written with tfjs ops (the fused one with a kernel registered on
// cpu too), so they are right on every backend.
// index.ts registers them when the torch backend is created, after tfjs-core's gradients are registered (including by
// tfjs-layers' bundle, imported later or not), so no import undoes them.
import { GradConfig, registerGradient } from '@tensorflow/tfjs-core';

import { batchMatMulGradConfig } from './batch_mat_mul_grad';
import { cumsumGradConfig } from './cumsum_grad';
import { fusedBatchNormGradConfig } from './fused_batch_norm_grad';
import { mirrorPadGradConfig } from './mirror_pad_grad';
import { reluGradConfig, reluGradGradConfig } from './relu_grad';
import { squaredDifferenceGradConfig } from './squared_difference_grad';

export const GRADIENTS: GradConfig[] = [
  reluGradConfig,
  reluGradGradConfig,
  fusedBatchNormGradConfig,
  batchMatMulGradConfig,
  cumsumGradConfig,
  mirrorPadGradConfig,
  squaredDifferenceGradConfig,
];

export function registerGradients(): void {
  for (const config of GRADIENTS) registerGradient(config);
}
