// ReLU's gradient through one fused kernel (TorchReluGrad) where the active backend has it, replacing
// tfjs-core's dy * cast(step(x)). On other backends it computes exactly tfjs-core's formula.
// index.ts loads tfjs-core's gradients before registering these, so later imports do not undo them.
import {
  cast, engine, getBackend, getKernel, GradConfig, mul, registerGradient, Relu, step, Tensor, zerosLike,
} from '@tensorflow/tfjs-core';

import { ReluGrad } from '../kernels/ReluGrad';

function reluBackward(dy: Tensor, x: Tensor): Tensor {
  if (getKernel(ReluGrad, getBackend()) !== undefined) return engine().runKernel(ReluGrad, { dy, x }) as Tensor;
  return mul(dy, cast(step(x), 'float32'));
}

const reluGradConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => reluBackward(dy as Tensor, saved[0]) }),
};

// Second-order gradients through the fused kernel: d/d(dy) is the same mask; nothing flows to x.
const reluGradGradConfig: GradConfig = {
  kernelName: ReluGrad,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => ({ dy: () => reluBackward(ddx as Tensor, saved[0]), x: () => zerosLike(saved[0]) }),
};

export function registerFusedGradients(): void {
  registerGradient(reluGradConfig);
  registerGradient(reluGradGradConfig);
}
