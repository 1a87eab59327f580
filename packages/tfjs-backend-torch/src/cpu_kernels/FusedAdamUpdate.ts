// FusedAdamUpdate for tfjs's `cpu` backend: the plain formula, each element in float64, rounded to float32
// once per output. It makes the Adam optimizers run on cpu (without libtorch, or with --backend cpu) and is the
// reference the native kernel is tested against.
//   m' = b1 m + (1-b1) g;   v' = b2 v + (1-b2) g^2;   x' = decay x - alpha m' / (sqrt(v') + epsilon)
// variable, gradient, m, v: same shape, float32 (alpha, decay: optional float32 scalars in place of the attributes)
// -> [x', m', v'].
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

import { FusedAdamUpdate, FusedAdamUpdateAttrs } from '../kernel_names';

export const fusedAdamUpdateCpuConfig: KernelConfig = {
  kernelName: FusedAdamUpdate,
  backendName: 'cpu',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const a = attrs as unknown as FusedAdamUpdateAttrs;
    const { beta1, beta2, epsilon } = a;
    const { variable, gradient, m, v, alpha: alphaTensor, decay: decayTensor } =
      inputs as Record<'variable' | 'gradient' | 'm' | 'v', TensorInfo> & Partial<Record<'alpha' | 'decay', TensorInfo>>;
    const [x, g, m0, v0] = [variable, gradient, m, v].map((t) => cpu.data.get(t.dataId).values as TypedArray);
    const read = (t: TensorInfo) => (cpu.data.get(t.dataId).values as TypedArray)[0];
    const alpha = alphaTensor === undefined ? a.alpha : read(alphaTensor);
    const decay = alphaTensor === undefined ? a.decay : decayTensor === undefined ? 1 : read(decayTensor);
    const x2 = new Float32Array(x.length);
    const m2 = new Float32Array(x.length);
    const v2 = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const mi = beta1 * m0[i] + (1 - beta1) * g[i];
      const vi = beta2 * v0[i] + (1 - beta2) * g[i] * g[i];
      m2[i] = mi;
      v2[i] = vi;
      x2[i] = decay * x[i] - (alpha * mi) / (Math.sqrt(vi) + epsilon);
    }
    return [
      cpu.makeTensorInfo(variable.shape, 'float32', x2),
      cpu.makeTensorInfo(m.shape, 'float32', m2),
      cpu.makeTensorInfo(v.shape, 'float32', v2),
    ];
  },
};
