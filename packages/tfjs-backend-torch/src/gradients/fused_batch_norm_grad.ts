// BatchNorm's gradient, y = (x − mean) · rsqrt(variance + ε) · scale + offset, with each input's derivative computed
// only when asked for. Replaces tfjs-core 4.22's fusedBatchNormGradConfig, which computes x − mean, dy · scale and
// rsqrt³ for every call before it knows which derivatives are wanted, and tiles rsqrt(variance + ε) to x's full
// shape for dx: an input gradient through a network in inference mode (BatchNorm on its moving statistics, as the
// explanation methods take) paid a subtraction, a tile and four multiplications of activation size per BatchNorm
// where one multiplication does. Broadcasting over the leading axes does the tiling.
// x, dy: [..., C] (or x's shape); mean, variance, scale, offset: [C] or broadcastable to x.
// Registered from register_gradients.ts.
import { add, FusedBatchNorm, FusedBatchNormAttrs, GradConfig, mul, neg, reshape, rsqrt, scalar, sub, Tensor } from '@tensorflow/tfjs-core';

import { reduceToShape } from './reduce_to_shape';

export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const g = dy as Tensor;
    const inverseStd = () => rsqrt(add(variance, scalar(varianceEpsilon)));
    const scaled = (t: Tensor) => (scale == null ? t : mul(t, scale)); // t · scale, in mean's shape
    // Σ over the broadcast axes, back in mean's shape.
    const toStatShape = (t: Tensor) => reduceToShape(t, mean.shape);
    return {
      x: () => reshape(mul(g, scaled(inverseStd())), x.shape),
      mean: () => toStatShape(mul(g, neg(scaled(inverseStd())))),
      // d/dvariance of (x − mean)·(variance + ε)^(−1/2)·scale = −½ (x − mean)·(variance + ε)^(−3/2)·scale
      variance: () => {
        const r = inverseStd();
        return toStatShape(mul(mul(g, sub(x, mean)), scaled(mul(mul(mul(r, r), r), scalar(-0.5)))));
      },
      scale: () => toStatShape(mul(g, mul(sub(x, mean), inverseStd()))),
      offset: () => toStatShape(g),
    };
  },
};
