import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { FusedAdamUpdate, FusedAdamUpdateAttrs } from '../kernel_names';
import { scalarAs } from './scalar_util';

// One Adam step for one variable in 5-6 ATen calls instead of ~20 tfjs kernels (formula: kernel_names.ts;
// reference: cpu_kernels/FusedAdamUpdate.ts).
// variable, gradient, m, v: same shape, float32 (alpha, decay: optional float32 scalars) -> [x', m', v'].
export const fusedAdamUpdateConfig = nativeKernel<FusedAdamUpdateAttrs>(FusedAdamUpdate, ({ inputs, attrs, backend }) => {
  const { variable, gradient, m, v, alpha, decay } = inputs;
  const f = (value: number) => scalarAs(value, 'float32'); // hyper-parameters as float32 scalars
  const g = backend.handle(gradient);
  const m2 = aten.lerp(backend.handle(m), g, f(1 - attrs.beta1));
  const v2 = aten.addcmul(backend.tmp(aten.mulScalar(backend.handle(v), f(attrs.beta2))), g, g, f(1 - attrs.beta2));
  const denom = backend.tmp(aten.sqrt(v2));
  backend.tmp(aten.addScalar_(denom, f(attrs.epsilon)));
  let x2;
  if (alpha === undefined) {
    const x = attrs.decay === 1 ? backend.handle(variable) : backend.tmp(aten.mulScalar(backend.handle(variable), f(attrs.decay)));
    x2 = aten.addcdiv(x, m2, denom, f(-attrs.alpha));
  } else {
    const x = decay === undefined ? backend.handle(variable) : backend.tmp(aten.mul(backend.handle(variable), backend.handle(decay)));
    x2 = aten.addcdiv(x, backend.tmp(aten.mul(m2, backend.handle(alpha))), denom, f(-1));
  }
  return [
    backend.makeOutput(x2, 'float32', variable.shape),
    backend.makeOutput(m2, 'float32', m.shape),
    backend.makeOutput(v2, 'float32', v.shape),
  ];
});
