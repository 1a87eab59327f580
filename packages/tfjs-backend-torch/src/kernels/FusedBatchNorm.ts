import { FusedBatchNorm, FusedBatchNormAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { nchwToNhwc, nhwcToNchw } from './conv_util';
import { scalarAs } from './scalar_util';

// (x - mean) / sqrt(variance + eps) * scale + offset. For NHWC x with per-channel [C] statistics this is
// ATen's batch_norm on the channels-last view; other broadcastable shapes use elementwise ops.
export const fusedBatchNormConfig = nativeKernel<FusedBatchNormAttrs>(FusedBatchNorm, ({ inputs, attrs, backend }) => {
  const { x, mean, variance, offset, scale } = inputs;
  const eps = attrs.varianceEpsilon ?? 0.001;
  const c = x.shape[x.shape.length - 1];
  const perChannel = [mean, variance, offset, scale].every((t) => t == null || (t.shape.length === 1 && t.shape[0] === c));
  if (x.shape.length === 4 && perChannel) {
    const y = aten.batchNorm(nhwcToNchw(backend, backend.handle(x)), scale ? backend.handle(scale) : null,
      offset ? backend.handle(offset) : null, backend.handle(mean), backend.handle(variance), false, 0, eps, false);
    return backend.makeOutput(nchwToNhwc(backend.tmp(y)), 'float32', x.shape);
  }
  const inv = backend.tmp(aten.rsqrt(backend.tmp(aten.addScalar(backend.handle(variance), scalarAs(eps, 'float32')))));
  let y = backend.tmp(aten.mul(backend.tmp(aten.sub(backend.handle(x), backend.handle(mean))), inv));
  if (scale != null) y = backend.tmp(aten.mul(y, backend.handle(scale)));
  if (offset != null) y = backend.tmp(aten.add(y, backend.handle(offset)));
  return backend.makeOutput(aten.contiguous(y, 0), 'float32');
});
