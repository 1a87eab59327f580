// ReLU's gradient through one fused kernel (TorchReluGrad: native on `torch`, tfjs-core's formula on `cpu`),
// replacing tfjs-core's dy * cast(step(x)), which runs as three kernels.
// Registered from register_gradients.ts.
import { engine, GradConfig, Relu, Tensor, zerosLike } from '@tensorflow/tfjs-core';

import { TorchReluGrad } from '../kernel_names';

function reluBackward(dy: Tensor, x: Tensor): Tensor {
  return engine().runKernel(TorchReluGrad, { dy, x }) as Tensor;
}

export const reluGradConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => reluBackward(dy as Tensor, saved[0]) }),
};

// Second-order gradients through the fused kernel: d/d(dy) is the same mask; nothing flows to x.
export const reluGradGradConfig: GradConfig = {
  kernelName: TorchReluGrad,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => ({ dy: () => reluBackward(ddx as Tensor, saved[0]), x: () => zerosLike(saved[0]) }),
};
