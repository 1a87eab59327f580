// Cumsum's gradient along any axis. Replaces tfjs-core 4.22's cumsumGradConfig, which takes the reverse cumsum of dy
// along `axis` (right: tf.cumsum handles any axis itself) and then transposes it by getAxesPermutation([axis]) as if
// it had been computed with the axis moved last, so for an axis other than the last the result has the wrong shape
// (x [4,3], axis 0 gives [3,4]) and tf.grads throws "gradient of input 'x' has shape '3,4'".
import { Cumsum, CumsumAttrs, cumsum, GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

export const cumsumGradConfig: GradConfig = {
  kernelName: Cumsum,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], _saved: Tensor[], attrs?: NamedAttrMap) => {
    const { axis, exclusive, reverse } = attrs as unknown as CumsumAttrs;
    // y_i = sum over j <= i (j < i if exclusive) of x_j, so dx_j = the same sum of dy taken from the other end.
    return { x: () => cumsum(dy as Tensor, axis, exclusive, !reverse) };
  },
};
