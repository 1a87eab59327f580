// Shared by the corrected gradients of broadcasting ops: a gradient computed on the broadcast output shape, summed
// back over the dimensions the input was broadcast along (as tfjs-core's Add/Sub/Mul gradients do).
import { backend_util, reshape, sum, Tensor, util } from '@tensorflow/tfjs-core';

/** g: the broadcast shape -> `shape`: summed over the axes where `shape` is 1 or missing. */
export function reduceToShape(g: Tensor, shape: number[]): Tensor {
  if (util.arraysEqual(g.shape, shape)) return g;
  const axes = backend_util.getReductionAxes(shape, g.shape);
  return reshape(axes.length > 0 ? sum(g, axes) : g, shape);
}
