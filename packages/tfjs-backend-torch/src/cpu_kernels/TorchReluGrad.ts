// TorchReluGrad for tfjs's `cpu` backend: tfjs-core's Relu gradient, dy * cast(step(x), 'float32'), in one
// pass and bit for bit (NaN in x gives NaN; the native kernel passes dy through there). It serves the fused
// Relu gradient on cpu and is the reference the native kernel is tested against.
// dy: float32, x: the same shape (any numeric dtype) -> float32.
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

import { TorchReluGrad } from '../kernel_names';

export const torchReluGradCpuConfig: KernelConfig = {
  kernelName: TorchReluGrad,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const { dy, x } = inputs as Record<'dy' | 'x', TensorInfo>;
    const dyValues = cpu.data.get(dy.dataId).values as TypedArray;
    const xValues = cpu.data.get(x.dataId).values as TypedArray;
    const dx = new Float32Array(dyValues.length);
    for (let i = 0; i < dx.length; i++) {
      const xi = xValues[i];
      dx[i] = dyValues[i] * (Number.isNaN(xi) ? NaN : xi > 0 ? 1 : 0);
    }
    return cpu.makeTensorInfo(dy.shape, 'float32', dx);
  },
};
