import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { TorchReluGrad } from '../kernel_names';
import { keptPair } from './compute_dtype';

// dx = dy where x > 0, else 0: one pass (ATen threshold_backward) instead of tfjs's Step, Cast and Multiply
// (reference: cpu_kernels/TorchReluGrad.ts).
// dy: float32, x: any shape broadcast-equal to dy -> float32 like dy (NaN in x passes dy through); bfloat16 when both
// are stored so (compute_dtype.ts).
export const torchReluGradConfig = nativeKernel(TorchReluGrad, ({ inputs: { dy, x }, backend }) => {
  const [dyh, xh] = x.dtype === 'float32' ? keptPair(backend, dy, x)
    : [backend.handle(dy), backend.tmp(aten.to(backend.handle(x), ScalarType.float32))];
  return backend.makeOutput(aten.thresholdBackward(dyh, xh, 0), 'float32', dy.shape);
});
