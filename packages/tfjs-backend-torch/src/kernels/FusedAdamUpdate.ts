import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

/** Name of the fused Adam step, a kernel of this backend (not a tfjs-core kernel). */
export const FusedAdamUpdate = 'FusedAdamUpdate';

export interface FusedAdamUpdateAttrs {
  beta1: number;
  beta2: number;
  /** Step size with bias correction folded in: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
  alpha: number;
  /** Added to sqrt(v') (Keras's "epsilon hat"). tfjs's formula uses epsilon * sqrt(1 - beta2^t). */
  epsilon: number;
  /** Multiplies x before the step: 1 - lr * weightDecay for AdamW's decoupled decay; 1 for none. */
  decay: number;
}

// One Adam step for one variable in 5-6 ATen calls instead of ~20 tfjs kernels:
//   m' = b1 m + (1-b1) g;   v' = b2 v + (1-b2) g^2;   x' = decay x - alpha m' / (sqrt(v') + epsilon)
// variable, gradient, m, v: same shape, float32 -> [x', m', v'].
export const fusedAdamUpdateConfig = nativeKernel<FusedAdamUpdateAttrs>(FusedAdamUpdate, ({ inputs, attrs, backend }) => {
  const { variable, gradient, m, v } = inputs;
  const g = backend.handle(gradient);
  const m2 = aten.lerp(backend.handle(m), g, 1 - attrs.beta1);
  const v2 = aten.addcmul(backend.tmp(aten.mulScalar(backend.handle(v), attrs.beta2)), g, g, 1 - attrs.beta2);
  const denom = backend.tmp(aten.sqrt(v2));
  backend.tmp(aten.addScalar_(denom, attrs.epsilon));
  const x = attrs.decay === 1 ? backend.handle(variable) : backend.tmp(aten.mulScalar(backend.handle(variable), attrs.decay));
  const x2 = aten.addcdiv(x, m2, denom, -attrs.alpha);
  return [
    backend.makeOutput(x2, 'float32', variable.shape),
    backend.makeOutput(m2, 'float32', m.shape),
    backend.makeOutput(v2, 'float32', v.shape),
  ];
});
