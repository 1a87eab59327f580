// The new classifier: one Dense layer from the cut's features to the new classes, producing logits. By default its
// kernel and bias start at zero (as Big Transfer's heads, Kolesnikov et al. 2020): every logit is 0 at the first
// step, so the loss starts at ln(classes) whatever the size of the base's features (a Glorot head on seed-cnn's
// unnormalised features started near 6 on two classes), the first updates are the head's own, and the base (under
// full) gets no gradient until the head has learnt a direction. `glorot` is the previous, random initialisation.
// A new class the base already has (same name) starts from the base classifier's weights for it instead, when the
// head sits where the base's classifier sat: fine-tuning a cat/dog model from a base that knows cats and dogs
// starts at what the base knows (its cat-vs-dog decision), not from nothing.
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';

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

/**
 * Copies the base classifier's kernel column and bias of base class `pairs[k][1]` into the head's column of new class
 * `pairs[k][0]`, for every pair; other columns keep their initial values. Both layers are Dense over the same features.
 */
export function copyClassifierColumns(head: tfl.layers.Layer, classifier: tfl.layers.Layer, pairs: [number, number][]): void {
  const [kernel, bias] = head.getWeights();
  const [baseKernel, baseBias] = classifier.getWeights();
  const columns = tf.tidy(() => {
    const source = new Int32Array(bias.size); // base column of each head column (0 where none is copied)
    const copied = new Uint8Array(bias.size);
    for (const [j, i] of pairs) [source[j], copied[j]] = [i, 1];
    const mask = tf.tensor1d(copied, 'bool');
    const index = tf.tensor1d(source, 'int32');
    const k = tf.where(tf.broadcastTo(mask, kernel.shape), tf.gather(baseKernel, index, 1), kernel);
    return [k, baseBias === undefined ? tf.clone(bias) : tf.where(mask, tf.gather(baseBias, index), bias)];
  });
  head.setWeights(columns); // assigns copies; getWeights() gave the variables' own tensors, which stay
  tf.dispose(columns);
}
