// The fine-tuning methods as trainable sets. Each starts from the whole base frozen (trainable = false, BatchNorm
// in inference mode) and thaws what it trains; the new head always trains:
//   full      every base layer trains, at lr × baseLrFactor (discriminative learning rates); optional gradual
//             unfreezing (see gradual_unfreezing.ts)
//   head      linear probe: only the head
//   bn+head   BatchNorm gamma/beta (in training mode) and the head
//   adapter   the adapters and the head
//   lora      the LoRA matrices A, B and the head
import type * as tfl from '@tensorflow/tfjs-layers';

import type { tf } from '../backend';
import { ruleError } from '../errors';
import { decaysByDefault, type Param } from '../train/optimizers';
import type { FinetuneModel } from './build';
import { isBatchNorm, setFrozen } from './freeze';
import type { FinetuneMethod } from './method_names';

/**
 * Sets every layer's trainability for `method` and returns the optimizer's params (model.trainableWeights in
 * order) with their learning-rate scales: base params × baseLrFactor under `full`, everything else × 1.
 */
export function configureMethod(ft: FinetuneModel, method: FinetuneMethod, baseLrFactor: number): Param[] {
  for (const layer of ft.baseLayers) setFrozen(layer, true);
  for (const layer of [...ft.headLayers, ...ft.addedLayers]) setFrozen(layer, false);
  if (method === 'full') {
    for (const layer of ft.baseLayers) setFrozen(layer, false);
  } else if (method === 'bn+head') {
    const norms = ft.baseLayers.filter(isBatchNorm);
    if (norms.length === 0) {
      throw ruleError('INSIGHT_E_CONFIG', 'Method bn+head needs BatchNorm layers in the base before the cut.',
        { method, cutAt: ft.cutAt, batchNormLayers: 0 }, 'Use --method head (the same thing without BatchNorm), or a base with BatchNorm (e.g. resnet).');
    }
    for (const layer of norms) setFrozen(layer, false);
  }
  const baseVariables = variablesOf(ft.baseLayers);
  return ft.model.trainableWeights.map((w) => {
    const variable = w.read() as tf.Variable;
    const fromBase = baseVariables.has(variable);
    return { variable, decay: decaysByDefault(variable), lrScale: method === 'full' && fromBase ? baseLrFactor : 1 };
  });
}

/** The tf.Variables of `layers` (trainable or not). */
export function variablesOf(layers: tfl.layers.Layer[]): Set<tf.Variable> {
  return new Set(layers.flatMap((layer) => layer.weights.map((w) => w.read() as tf.Variable)));
}

/** Trainable and total parameter counts of a model (params with lrScale 0 do not count), and the trainable share. */
export function parameterCounts(model: tfl.LayersModel, params: Param[]): { trainable: number; total: number; share: number } {
  const trainable = params.filter((p) => (p.lrScale ?? 1) !== 0).reduce((sum, p) => sum + p.variable.size, 0);
  const total = model.countParams();
  return { trainable, total, share: trainable / total };
}
