// Which weights magnitude pruning touches: the kernels of Conv2D, DepthwiseConv2D, SeparableConv2D and Dense layers
// (never biases, BatchNorm parameters or embeddings), minus the layers skipped by name. The default skip list is the
// first and the last kernel layer — the input convolution (3 input channels: few weights, each carrying much) and
// the classifier — as most recipes keep them dense (Han et al. 2015 prune them least; torchvision's and
// Neural Magic's recipes leave them out); TF-MOT's prune_low_magnitude prunes every kernel: pass `skip: []`.
import type * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';
import { graphSteps } from '../../models/graph';

/** Layer classes whose kernel is prunable. */
export const PRUNABLE_CLASSES = ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv1D', 'Dense'] as const;

/** One prunable kernel: its layer and the weight variable (`layer/kernel`). */
export interface PrunableWeight {
  layer: tfl.layers.Layer;
  variable: tfl.LayerVariable;
}

/** The kernel layers of `model` in topological order (input side first). */
export function kernelLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const layers = graphSteps(model).map((s) => s.layer)
    .filter((layer) => (PRUNABLE_CLASSES as readonly string[]).includes(layer.getClassName()));
  return [...new Set(layers)]; // a layer applied twice counts once
}

/** The default skip list: the first and the last kernel layer (input convolution, classifier). */
export function defaultSkip(model: tfl.LayersModel): string[] {
  const layers = kernelLayers(model);
  return layers.length <= 2 ? [] : [layers[0].name, layers[layers.length - 1].name];
}

/**
 * The prunable kernels of `model` without the layers named in `skip` (null: defaultSkip). A name that is no kernel
 * layer of the model is an INSIGHT_E_CONFIG error naming the kernel layers.
 */
export function prunableWeights(model: tfl.LayersModel, skip: readonly string[] | null = null): PrunableWeight[] {
  const layers = kernelLayers(model);
  const names = layers.map((l) => l.name);
  const skipped = skip ?? defaultSkip(model);
  const unknown = skipped.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Layers to skip must be kernel layers (Conv2D, Dense ...) of the model.',
      { skip: unknown.join(','), kernelLayers: names.join(',') }, 'Name layers from the kernel layers listed, or pass none.');
  }
  const weights = layers.filter((layer) => !skipped.includes(layer.name)).flatMap((layer) => {
    // SeparableConv2D has depthwise_kernel and pointwise_kernel; the others one `kernel`.
    const kernels = layer.weights.filter((w) => w.shape.length >= 2 && /kernel$/.test(w.originalName));
    return kernels.map((variable) => ({ layer, variable }));
  });
  if (weights.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Pruning needs at least one prunable kernel layer left after the skipped ones.',
      { skip: skipped.join(',') || 'none', kernelLayers: names.join(',') || 'none' }, 'Skip fewer layers (e.g. --skip-layers none).');
  }
  return weights;
}
