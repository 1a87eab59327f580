import { util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { TorchBatchNormTraining, TorchBatchNormTrainingAttrs } from '../kernel_names';
import { channelsFirstView, channelsLastView } from './batch_norm_training_util';

// BatchNorm in training mode over the last axis in one ATen native_batch_norm call (statistics, normalization, scale
// and shift) where tfjs-layers runs tf.moments and tf.batchNorm as six kernels, each with its own gradient. The biased
// variance tf.moments gives comes from the running-variance output: fed zeros with momentum 1, ATen writes the batch's
// unbiased variance there, scaled here by (n - 1) / n (equal to tf.moments' to float rounding).
// x: [N, ..., C] float32, rank >= 2; scale, offset: [C] or absent -> y, mean, variance, inverseStd (kernel_names.ts).
// A bfloat16-stored activation (compute_dtype.ts) is normalized as stored (ATen's mixed-precision batch norm: float32
// statistics and parameters), and y stays bfloat16.
export const torchBatchNormTrainingConfig = nativeKernel<TorchBatchNormTrainingAttrs>(TorchBatchNormTraining,
  ({ inputs: { x, scale, offset }, attrs, backend }) => {
    const rank = x.shape.length;
    const c = x.shape[rank - 1];
    const n = util.sizeFromShape(x.shape) / c;
    const xh = backend.tmp(channelsFirstView(backend.keptHandle(x), rank));
    const runningMean = backend.tmp(aten.full([c], 0, ScalarType.float32));
    const runningVar = backend.tmp(aten.full([c], 0, ScalarType.float32));
    const [y, mean, inverseStd] = aten.nativeBatchNorm(xh, scale ? backend.handle(scale) : null,
      offset ? backend.handle(offset) : null, runningMean, runningVar, true, 1.0, attrs.varianceEpsilon);
    // One value per channel: the variance is 0 (ATen's unbiased one would be 0/0).
    const variance = n > 1 ? aten.mulScalar(runningVar, (n - 1) / n) : aten.full([c], 0, ScalarType.float32);
    return [
      backend.makeOutput(channelsLastView(backend.tmp(y), rank), 'float32', x.shape),
      backend.makeOutput(mean, 'float32', [c]),
      backend.makeOutput(variance, 'float32', [c]),
      backend.makeOutput(inverseStd, 'float32', [c]),
    ];
  });
