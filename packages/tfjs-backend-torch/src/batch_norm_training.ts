// BatchNorm in training mode (batch statistics over every axis but the last), differentiable through the
// statistics, as one forward kernel and one backward kernel on `torch` (TorchBatchNormTraining and its Grad). On a
// backend without them (cpu) it runs the ops tfjs-layers' BatchNormalization runs: tf.moments, then tf.batchNorm.
//   const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3);  // ordinary tensors: a tidy frees them
// Most of this package's kernels also have a cpu kernel; these two do not (nor conv2dBiasActivation's gradient): the
// composed ops are the reference.
import {
  batchNorm, clone, customGrad, dispose, engine, getBackend, getKernel, GradSaveFunc, keep, moments, onesLike, Tensor, tidy,
} from '@tensorflow/tfjs-core';

import { TorchBatchNormTraining, TorchBatchNormTrainingAttrs, TorchBatchNormTrainingGrad } from './kernel_names';

export interface BatchNormTrainingResult {
  /** (x - mean) / sqrt(variance + epsilon) * scale + offset, x's shape. */
  y: Tensor;
  /** The batch's per-channel mean [C]. */
  mean: Tensor;
  /** The batch's per-channel biased variance [C] (tf.moments'). */
  variance: Tensor;
}

/**
 * x: [N, ..., C] float32 (rank >= 2), scale and offset: [C] or null -> y, mean, variance. Gradients flow to x, scale
 * and offset (through the batch statistics); mean and variance are outside the gradient, for a moving average.
 */
export function batchNormTraining(x: Tensor, scale: Tensor | null, offset: Tensor | null, varianceEpsilon: number): BatchNormTrainingResult {
  if (x.rank < 2 || x.dtype !== 'float32') {
    throw new Error(`batchNormTraining needs float32 x of rank 2 or more, channels last. Received: x.shape=[${x.shape}], ` +
      `x.dtype=${x.dtype}. Reshape or cast x to float32 [N, ..., C].`);
  }
  const c = x.shape[x.rank - 1];
  for (const [name, t] of [['scale', scale], ['offset', offset]] as const) {
    if (t !== null && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new Error(`batchNormTraining needs ${name} of shape [${c}] (x's last axis) or null. Received: ${name}.shape=[${t.shape}]. ` +
        `Pass one value per channel.`);
    }
  }
  if (getKernel(TorchBatchNormTraining, getBackend()) === undefined) {
    return tidy(() => {
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = moments(x, axes);
      // tfjs-core's batchNorm gradient needs a scale: ones stand for a missing one.
      return { y: batchNorm(x, mean, variance, offset ?? undefined, scale ?? onesLike(mean), varianceEpsilon), mean, variance };
    });
  }
  const attrs: TorchBatchNormTrainingAttrs = { varianceEpsilon };
  const params = [scale, offset].filter((t): t is Tensor => t !== null);
  let stats: [Tensor, Tensor] | undefined;
  const normalize = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const save = args[args.length - 1] as GradSaveFunc;
    const inputs = { x, ...(scale === null ? {} : { scale }), ...(offset === null ? {} : { offset }) };
    const [y, mean, variance, inverseStd] = engine().runKernel(TorchBatchNormTraining, inputs,
      attrs as unknown as Record<string, number>) as Tensor[];
    stats = [keep(mean), keep(variance)];
    // The tape keeps what it saves; x itself may be freed before the backward pass runs.
    save(scale === null ? [x, mean, inverseStd] : [x, mean, inverseStd, scale]);
    return {
      value: y,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [savedX, savedMean, savedInverseStd, savedScale] = saved;
        const [dx, dscale, doffset] = engine().runKernel(TorchBatchNormTrainingGrad,
          { dy: dy as Tensor, x: savedX, ...(savedScale === undefined ? {} : { scale: savedScale }), mean: savedMean,
            inverseStd: savedInverseStd },
          attrs as unknown as Record<string, number>) as Tensor[];
        return [dx, ...(scale === null ? [] : [dscale]), ...(offset === null ? [] : [doffset])];
      },
    };
  });
  const y = normalize(x, ...params);
  // The statistics left the kernel's scope kept; the caller gets ordinary tensors (a tidy around the call frees them).
  const [keptMean, keptVariance] = stats!;
  const result = { y, mean: clone(keptMean), variance: clone(keptVariance) };
  dispose([keptMean, keptVariance]);
  return result;
}
