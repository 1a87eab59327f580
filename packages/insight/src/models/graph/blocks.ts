// Blocks of a model: the units gradual unfreezing thaws one at a time, after which adapters go, and that
// explanations and compression treat as one stage. A block
// ends at a graph boundary (a layer every path passes through) just before the next kernel layer (Conv2D, Dense,
// ...) or at the cut: seed-cnn gives [conv1 pool1] [conv2 pool2] [conv3 flatten] [dense1]; a CIFAR ResNet gives
// the stem, then one block per residual BasicBlock (the last one ending with the pooling at the cut).
import type * as tfl from '@tensorflow/tfjs-layers';

import { graphSteps, hasWeights } from './rebuild';
import { isArticulation } from './cut';

export interface Block {
  /** Layers of the block in topological order. */
  layers: tfl.layers.Layer[];
  /** Where an adapter goes: the block's last layer with a feature-map output (rank 4), else its last layer. */
  adapterSite: string;
}

/** True for layers with a kernel (their weights include one of rank >= 2). */
export function hasKernel(layer: tfl.layers.Layer): boolean {
  return layer.weights.some((w) => w.shape.length >= 2);
}

/** The blocks of `model` up to and including the layer `cutAt`, bottom (input side) first. */
export function blocksOf(model: tfl.LayersModel, cutAt: string): Block[] {
  const steps = graphSteps(model);
  const end = steps.findIndex((s) => s.layer.name === cutAt);
  const blocks: Block[] = [];
  let current: number[] = [];
  for (let i = 0; i <= end; i++) {
    current.push(i);
    const atEnd = i === end;
    const nextIsKernel = !atEnd && hasKernel(steps[i + 1].layer);
    const closes = atEnd || (nextIsKernel && isArticulation(steps, i) && current.some((k) => hasWeights(steps[k].layer)));
    if (!closes) continue;
    const layers = current.map((k) => steps[k].layer);
    const featureMaps = current.filter((k) => steps[k].outputs[0].shape.length === 4 && isArticulation(steps, k));
    const site = featureMaps.length > 0 ? steps[featureMaps[featureMaps.length - 1]].layer.name : layers[layers.length - 1].name;
    blocks.push({ layers, adapterSite: site });
    current = [];
  }
  return blocks;
}
