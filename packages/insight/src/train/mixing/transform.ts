// Mixup / CutMix as the training step's BatchTransform (train/train_step.ts): per micro-batch, the seeded plan
// (plan.ts), the blended input and the mixed-target loss. The step's correct count stays against y, which plan.ts
// makes the dominant label (weight λ ≥ 0.5) of every mixed image.
import { tf } from '../../backend';
import type { BatchTransform } from '../train_step';
import { mixedCrossEntropy } from './mixed_loss';
import { cutmixImages, mixupImages } from './mix_images';
import { planMix } from './plan';
import { mixingOn, type MixingSettings } from './settings';

/** The transform for these settings and the run's label smoothing; undefined when they mix nothing. */
export function mixingTransform(settings: MixingSettings, labelSmoothing: number): BatchTransform | undefined {
  if (!mixingOn(settings)) return undefined;
  return (x, y, _model, at) => {
    const [size, height, width] = x.shape;
    const plan = planMix(settings, size, height, width, at);
    if (plan.kind === 'none') return { x, dispose: () => undefined };
    const { mixed, partnerLabels } = tf.tidy(() => {
      const partners = tf.tensor1d(Int32Array.from(plan.permutation), 'int32');
      return {
        mixed: plan.kind === 'mixup' ? mixupImages(x, partners, plan.lambda) : cutmixImages(x, partners, plan.box, plan.pasted),
        partnerLabels: tf.gather(y, partners) as tf.Tensor1D,
      };
    });
    return {
      x: mixed,
      loss: (logits) => mixedCrossEntropy(y, partnerLabels, plan.lambda, labelSmoothing, logits),
      dispose: () => tf.dispose([mixed, partnerLabels]),
    };
  };
}
