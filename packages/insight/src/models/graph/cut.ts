// Where a model is cut: by default the last layer before its classifier (the layer feeding the model's output
// layer), else a named layer. Everything up to the cut is the feature extractor (what fine-tuning puts a new head
// on, and whose activations explanations read); everything after it is the classifier head.
import type * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';
import { graphSteps } from './rebuild';

/** The name of the layer whose output feeds the output layer: e.g. seed-cnn → 'dense1', resnet → 'pool'. */
export function defaultCutLayer(model: tfl.LayersModel): string {
  const steps = graphSteps(model);
  const outputStep = steps[steps.length - 1];
  const feeding = outputStep?.inputs[0];
  const feeder = feeding === undefined ? undefined : steps.find((s) => s.outputs.some((t) => t.id === feeding.id));
  if (feeder === undefined) {
    throw ruleError('INSIGHT_E_MODEL', 'A base model needs at least one layer before its classifier.',
      { layers: steps.map((s) => s.layer.name) }, 'Fine-tune a model with a feature extractor and a classifier layer.');
  }
  return feeder.layer.name;
}

/**
 * Checks that `name` is a layer of `model` that can be cut at: not the output layer itself, and a single
 * tensor through which every path from the input to the output passes (so nothing after the cut needs anything
 * from before it). Returns the name.
 */
export function checkCutLayer(model: tfl.LayersModel, name: string): string {
  const steps = graphSteps(model);
  const names = steps.map((s) => s.layer.name);
  const index = names.indexOf(name);
  if (index < 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'cutAt must name a layer of the base model.', { cutAt: name },
      `Use one of: ${names.slice(0, -1).join(', ')} (default: the last layer before the classifier, ${defaultCutLayer(model)}).`);
  }
  if (index === steps.length - 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'cutAt must be a layer before the output layer (the classifier is replaced).', { cutAt: name },
      `Use e.g. ${defaultCutLayer(model)}.`);
  }
  if (!isArticulation(steps, index)) {
    throw ruleError('INSIGHT_E_CONFIG', 'cutAt must be a layer every path from input to output passes through (not inside a residual block).',
      { cutAt: name }, `Cut at a block boundary, e.g. ${defaultCutLayer(model)}.`);
  }
  return name;
}

/**
 * True when, after step `index`, the only tensor produced so far that later steps still consume is the output
 * of step `index` (a block boundary of the graph).
 */
export function isArticulation(steps: ReturnType<typeof graphSteps>, index: number): boolean {
  const own = new Set(steps[index].outputs.map((t) => t.id));
  const producedBefore = new Set<number>();
  for (let i = 0; i <= index; i++) for (const t of steps[i].outputs) producedBefore.add(t.id);
  for (let j = index + 1; j < steps.length; j++) {
    for (const t of steps[j].inputs) if (producedBefore.has(t.id) && !own.has(t.id)) return false;
  }
  return true;
}
