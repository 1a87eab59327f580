// The new classifier: one Dense layer from the cut's features to the new classes, producing logits. By default its
// kernel and bias start at zero (as Big Transfer's heads, Kolesnikov et al. 2020): every logit is 0 at the first
// step, so the loss starts at ln(classes) whatever the size of the base's features (a Glorot head on seed-cnn's
// unnormalised features started near 6 on two classes), the first updates are the head's own, and the base (under
// full) gets no gradient until the head has learnt a direction. `glorot` is the previous, random initialisation.
import * as tfl from '@tensorflow/tfjs-layers';

import type { HeadInit } from './method_names';

type SymbolicTensor = tfl.SymbolicTensor;

/** The new head's layer name in every fine-tuned model. */
export const HEAD_NAME = 'finetune_logits';

/**
 * features: [batch, ...] → logits [batch, numClasses]. Feature maps (rank 4) are averaged globally first, other
 * ranks above 2 flattened. Returns the logits and the head's layers (to train them at the full learning rate).
 * `seed` seeds a glorot kernel (zeros needs none).
 */
export function attachHead(features: SymbolicTensor, numClasses: number, init: HeadInit, seed: number | undefined): { logits: SymbolicTensor; layers: tfl.layers.Layer[] } {
  const layers: tfl.layers.Layer[] = [];
  let x = features;
  if (x.shape.length === 4) {
    const pool = tfl.layers.globalAveragePooling2d({ name: 'finetune_pool' });
    layers.push(pool);
    x = pool.apply(x) as SymbolicTensor;
  } else if (x.shape.length > 2) {
    const flatten = tfl.layers.flatten({ name: 'finetune_flatten' });
    layers.push(flatten);
    x = flatten.apply(x) as SymbolicTensor;
  }
  const kernelInitializer = init === 'zeros' ? tfl.initializers.zeros() : tfl.initializers.glorotUniform({ seed });
  const dense = tfl.layers.dense({ units: numClasses, name: HEAD_NAME, kernelInitializer });
  layers.push(dense);
  return { logits: dense.apply(x) as SymbolicTensor, layers };
}
