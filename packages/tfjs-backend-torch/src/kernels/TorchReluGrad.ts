import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { TorchReluGrad } from '../kernel_names';

// dx = dy where x > 0, else 0: one pass (ATen threshold_backward) instead of tfjs's Step, Cast and Multiply
// (reference: cpu_kernels/TorchReluGrad.ts).
// dy: float32, x: any shape broadcast-equal to dy -> float32 like dy. (NaN in x passes dy through.)
export const torchReluGradConfig = nativeKernel(TorchReluGrad, ({ inputs: { dy, x }, backend }) => {
  const xh = x.dtype === 'float32' ? backend.handle(x) : backend.tmp(aten.to(backend.handle(x), ScalarType.float32));
  return backend.makeOutput(aten.thresholdBackward(backend.handle(dy), xh, 0), 'float32', dy.shape);
});
