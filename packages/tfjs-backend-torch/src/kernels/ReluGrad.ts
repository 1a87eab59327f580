import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';

/** Name of the fused ReLU backward kernel, a kernel of this backend (not a tfjs-core kernel). */
export const ReluGrad = 'TorchReluGrad';

// dx = dy where x > 0, else 0: one pass (ATen threshold_backward) instead of tfjs's Step, Cast and Multiply.
// dy: float32, x: any shape broadcast-equal to dy -> float32 like dy. (NaN in x passes dy through.)
export const reluGradConfig = nativeKernel(ReluGrad, ({ inputs: { dy, x }, backend }) => {
  const xh = x.dtype === 'float32' ? backend.handle(x) : backend.tmp(aten.to(backend.handle(x), ScalarType.float32));
  return backend.makeOutput(aten.thresholdBackward(backend.handle(dy), xh, 0), 'float32', dy.shape);
});
