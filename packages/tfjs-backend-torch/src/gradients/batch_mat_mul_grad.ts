// BatchMatMul's gradient with broadcast batch dimensions. Replaces tfjs-core 4.22's batchMatMulGradConfig, which returns
// the products on the broadcast batch shape (a [2,3,4] x b [1,4,5] gives db [2,4,5]) without summing over the
// dimensions an input was broadcast along, so tf.grads throws "gradient of input 'b' has shape '2,4,5'".
// a: [...batchA, m, k] (or [..., k, m] transposed), b: [...batchB, k, n] -> da, db of a's and b's shapes.
import { BatchMatMul, BatchMatMulAttrs, GradConfig, matMul, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

import { reduceToShape } from './reduce_to_shape';

export const batchMatMulGradConfig: GradConfig = {
  kernelName: BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    // tfjs-core's four cases, each then summed back to its input's shape.
    const [da, db] = !transposeA && !transposeB ? [() => matMul(g, b, false, true), () => matMul(a, g, true, false)]
      : !transposeA ? [() => matMul(g, b, false, false), () => matMul(g, a, true, false)]
        : !transposeB ? [() => matMul(b, g, false, true), () => matMul(a, g, false, false)]
          : [() => matMul(b, g, true, true), () => matMul(g, a, true, true)];
    return { a: () => reduceToShape(da(), a.shape), b: () => reduceToShape(db(), b.shape) };
  },
};
