import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { TorchBatchNormTrainingAttrs, TorchBatchNormTrainingGrad } from '../kernel_names';
import { channelsFirstView, channelsLastView } from './batch_norm_training_util';
import { keptPair } from './compute_dtype';

// The backward pass of TorchBatchNormTraining in one ATen native_batch_norm_backward call: dx through the batch
// statistics, dscale = Σ dy (x - mean) inverseStd, doffset = Σ dy, where tfjs's gradients of tf.moments and
// tf.batchNorm take about twenty kernels.
// dy, x: [N, ..., C]; scale: [C] or absent; mean, inverseStd: [C] from the forward -> [dx, dscale, doffset]; dx stays
// bfloat16 when dy and x are stored so (compute_dtype.ts), dscale and doffset are float32.
export const torchBatchNormTrainingGradConfig = nativeKernel<TorchBatchNormTrainingAttrs>(TorchBatchNormTrainingGrad,
  ({ inputs: { dy, x, scale, mean, inverseStd }, attrs, backend }) => {
    const rank = x.shape.length;
    const c = x.shape[rank - 1];
    const [dyh, xh] = keptPair(backend, dy, x);
    const [dx, dscale, doffset] = aten.nativeBatchNormBackward(
      backend.tmp(channelsFirstView(dyh, rank)), backend.tmp(channelsFirstView(xh, rank)),
      scale ? backend.handle(scale) : null, null, null, backend.handle(mean), backend.handle(inverseStd), true,
      attrs.varianceEpsilon, [true, true, true]);
    return [
      backend.makeOutput(channelsLastView(backend.tmp(dx), rank), 'float32', x.shape),
      backend.makeOutput(dscale, 'float32', [c]),
      backend.makeOutput(doffset, 'float32', [c]),
    ];
  });
