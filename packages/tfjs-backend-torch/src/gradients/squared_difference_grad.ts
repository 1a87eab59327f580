// SquaredDifference's gradient with broadcasting. Replaces tfjs-core 4.22's squaredDifferenceGradConfig, which returns
// 2 (a - b) dy on the broadcast output shape for both inputs without summing over the broadcast dimensions
// (a [3,4], b [4] gives db [3,4]), so tf.grads throws "gradient of input 'b' has shape '3,4'".
import { GradConfig, mul, scalar, SquaredDifference, sub, Tensor } from '@tensorflow/tfjs-core';

import { reduceToShape } from './reduce_to_shape';

export const squaredDifferenceGradConfig: GradConfig = {
  kernelName: SquaredDifference,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    // d/da (a - b)^2 = 2 (a - b); d/db = 2 (b - a); each on the output shape, then summed to its input's.
    return {
      a: () => reduceToShape(mul(g, mul(scalar(2), sub(a, b))), a.shape),
      b: () => reduceToShape(mul(g, mul(scalar(2), sub(b, a))), b.shape),
    };
  },
};
