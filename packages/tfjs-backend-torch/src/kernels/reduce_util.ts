// Shared by the reduction kernels (Sum, Mean, Max, Min, Prod, All, Any): tfjs's axis conventions on ATen.
import { backend_util, DataType, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { Handle } from '../binding';

export interface Reduction {
  axes: number[];      // normalised, ascending
  outShape: number[];  // the shape tfjs expects, keepDims applied
}

/** tfjs's axes (null = all) and output shape for reducing `shape`. */
export function reduction(axis: number | number[] | null | undefined, shape: number[], keepDims: boolean): Reduction {
  const axes = util.parseAxisParam(axis as number[], shape).sort((a, b) => a - b);
  const [outShape] = backend_util.computeOutAndReduceShapes(shape, axes);
  return { axes, outShape: keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape };
}

/**
 * x unchanged but as `dtype`, for an empty axis list: tfjs then reduces nothing, while ATen's reductions
 * would reduce every axis. Aliases x when no cast is needed, as Identity does.
 */
export function noReduction(backend: TorchBackend, x: TensorInfo, dtype: DataType): TensorInfo {
  if (dtype === x.dtype) return backend.alias(x);
  return backend.makeOutput(aten.to(backend.handle(x), ScalarType[dtype as 'float32']), dtype, x.shape);
}

/**
 * Reduces `axes` of h (shape `shape`) with an ATen op that takes one dim: the axes are moved last and
 * flattened into one, so `op(h2, -1)` reduces them all at once. Returns [outer...] (no keepDims).
 */
export function reduceFlattened(backend: TorchBackend, h: Handle, shape: number[], axes: number[],
  op: (h: Handle, dim: number) => Handle): Handle {
  if (axes.length === 1) return op(h, axes[0]);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const moved = backend.tmp(aten.permute(h, [...kept, ...axes]));
  const reduceSize = util.sizeFromShape(axes.map((a) => shape[a]));
  const flat = backend.tmp(aten.reshape(moved, [...kept.map((i) => shape[i]), reduceSize]));
  return op(flat, -1);
}
