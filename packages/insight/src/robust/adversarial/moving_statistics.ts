// Extra forward passes in training mode (an attack crafting a training batch's perturbation) would move BatchNorm's
// moving mean and variance once per pass: tfjs-layers' BatchNormalization updates them in every call with
// training: true. keepingMovingStatistics runs such passes and puts the model's non-trainable weights (the moving
// statistics, and any frozen weight, which no pass changes) back as they were, so they move once per training step,
// from the batch the step trains on, exactly as in a run without the attack.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';

/** Runs `passes` (forward passes of `model` in training mode) and restores the model's non-trainable weights after it. */
export function keepingMovingStatistics<T>(model: tfl.LayersModel, passes: () => T): T {
  const weights = model.nonTrainableWeights;
  const saved = weights.map((w) => tf.clone(w.read()));
  try {
    return passes();
  } finally {
    // write() assigns the saved tensor's data (a shared reference): disposing our clone afterwards leaves it in place.
    weights.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
  }
}
