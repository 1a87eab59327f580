// The fine-tuning methods as trainable sets. Each starts from the whole base frozen (trainable = false, BatchNorm
// in inference mode) and thaws what it trains; the new head always trains, at lr, or at lr × baseLrFactor when it is
// the base's own classifier (every new class is a base class, build.ts): pretrained weights train at the base's rate.
//   full      every base layer trains, at lr × baseLrFactor (discriminative learning rates); optional gradual
//             unfreezing (see gradual_unfreezing.ts)
//   head      linear probe: only the head
//   bn+head   BatchNorm gamma/beta (in training mode) and the head
//   adapter   the adapters and the head
//   lora      the LoRA matrices A, B and the head
//   prompt    the visual prompt (input space, see prompt.ts) and the head
import type * as tfl from '@tensorflow/tfjs-layers';

import type { tf } from '../backend';
import { ruleError } from '../errors';
import { decaysByDefault, type Param } from '../train/optimizers';
import type { FinetuneModel } from './build';
import { isBatchNorm, setFrozen } from './freeze';
import type { FinetuneMethod } from './method_names';

/**
 * Sets every layer's trainability for `method` and returns the optimizer's params (model.trainableWeights in
 * order) with their learning-rate scales: base params × baseLrFactor under `full`, a head taken whole from the
 * base's classifier × baseLrFactor, the prompt strips' kernels × 0 (they only ever see zeros), everything else × 1.
 */
export function configureMethod(ft: FinetuneModel, method: FinetuneMethod, baseLrFactor: number): Param[] {
  for (const layer of [...ft.baseLayers, ...ft.fixedLayers]) setFrozen(layer, true);
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
  const pretrainedHead = ft.headPretrained ? variablesOf(ft.headLayers) : new Set<tf.Variable>();
  const promptKernels = new Set(method === 'prompt' ? ft.addedLayers.flatMap((l) => l.weights.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read() as tf.Variable)) : []);
  return ft.model.trainableWeights.map((w) => {
    const variable = w.read() as tf.Variable;
    const pretrained = (method === 'full' && baseVariables.has(variable)) || pretrainedHead.has(variable);
    const lrScale = promptKernels.has(variable) ? 0 : pretrained ? baseLrFactor : 1;
    return { variable, decay: decaysByDefault(variable), lrScale };
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
