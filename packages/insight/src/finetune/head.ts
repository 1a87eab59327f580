// The new classifier: one Dense layer from the cut's features to the new classes, producing logits.
import * as tfl from '@tensorflow/tfjs-layers';

type SymbolicTensor = tfl.SymbolicTensor;

/** The new head's layer name in every fine-tuned model. */
export const HEAD_NAME = 'finetune_logits';

/**
 * features: [batch, ...] → logits [batch, numClasses]. Feature maps (rank 4) are averaged globally first, other
 * ranks above 2 flattened. Returns the logits and the head's layers (to train them at the full learning rate).
 */
export function attachHead(features: SymbolicTensor, numClasses: number, seed: number | undefined): { logits: SymbolicTensor; layers: tfl.layers.Layer[] } {
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
  const dense = tfl.layers.dense({ units: numClasses, name: HEAD_NAME, kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  layers.push(dense);
  return { logits: dense.apply(x) as SymbolicTensor, layers };
}
