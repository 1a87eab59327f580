// LoRA across a model: which layers get low-rank updates, wrapping them while the graph is rebuilt, and merging
// the updates back (W ← W + (alpha/r)·A·B) into a plain model with the same outputs and no extra cost.
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { getInsightMetadata, setInsightMetadata } from '../models/metadata';
import { graphSteps, rebuild, type GraphStep } from '../models/graph/rebuild';
import { LoraLayer } from './lora_layer';

const LORA_CLASSES = ['Dense', 'Conv2D'];

/** Names of the Dense and Conv2D layers of `model` up to and including `cutAt`: the default LoRA targets. */
export function defaultLoraTargets(model: tfl.LayersModel, cutAt: string): string[] {
  const names: string[] = [];
  for (const step of graphSteps(model)) {
    if (LORA_CLASSES.includes(step.layer.getClassName())) names.push(step.layer.name);
    if (step.layer.name === cutAt) break;
  }
  return names;
}

/** Checks the requested targets: each a Dense or Conv2D layer at or before the cut. */
export function checkLoraTargets(model: tfl.LayersModel, cutAt: string, targets: string[]): string[] {
  const allowed = defaultLoraTargets(model, cutAt);
  for (const name of targets) {
    if (!allowed.includes(name)) {
      throw ruleError('INSIGHT_E_CONFIG', 'Every LoRA target must be a Dense or Conv2D layer of the base at or before the cut.',
        { loraTargets: targets, unknown: name }, `Use some of: ${allowed.join(', ')}.`);
    }
  }
  return targets;
}

/**
 * Applies a LoRA-wrapped copy of `step.layer` (sharing nothing: its frozen kernel and bias are copies) to
 * `inputs`. The wrapper is named `<layer>_lora`.
 */
export function applyLora(step: GraphStep, inputs: tfl.SymbolicTensor[], rank: number, alpha: number, seed: number | undefined): { output: tfl.SymbolicTensor; layer: LoraLayer } {
  const layer = new LoraLayer({
    target: { className: step.layer.getClassName() as 'Dense' | 'Conv2D', config: step.layer.getConfig() },
    rank, alpha, seed, name: `${step.layer.name}_lora`,
  });
  const output = layer.apply(inputs[0]) as tfl.SymbolicTensor;
  layer.copyBaseWeights(step.layer);
  return { output, layer };
}

/**
 * A plain copy of `model` in which every LoRA layer is replaced by its wrapped layer type (same name as the
 * original layer) holding W + (alpha/r)·A·B. Other layers are shared with `model`. Metadata is carried over.
 * Example: `const plain = mergeLora(finetuned); await saveModel(plain, dir)`.
 */
export function mergeLora(model: tfl.LayersModel): tfl.LayersModel {
  const input = tfl.input({ shape: model.inputs[0].shape.slice(1) as number[], name: model.inputs[0].name.replace(/\/.*$/, '') });
  const merged: { layer: tfl.layers.Layer; kernel: tf.Tensor; bias: tf.Tensor | null }[] = [];
  const { output } = rebuild(model, input, {
    hook: (step, inputs) => {
      if (!(step.layer instanceof LoraLayer)) return undefined;
      const { className, config } = step.layer.target;
      const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className];
      const plain = fromConfig(cls, { ...config, name: config.name }) as tfl.layers.Layer;
      merged.push({ layer: plain, kernel: step.layer.mergedKernel(), bias: step.layer.biasValue() });
      return [plain.apply(inputs[0]) as tfl.SymbolicTensor];
    },
  });
  const result = tfl.model({ inputs: input, outputs: output, name: `${model.name}_merged` });
  for (const { layer, kernel, bias } of merged) {
    layer.setWeights(bias === null ? [kernel] : [kernel, bias]);
    tf.dispose(bias === null ? [kernel] : [kernel, bias]);
  }
  const meta = model.getUserDefinedMetadata() as { insight?: unknown } | undefined;
  if (meta?.insight !== undefined) setInsightMetadata(result, getInsightMetadata(model, model.name));
  return result;
}

/** The LoRA layers of a model. */
export function loraLayersOf(model: tfl.LayersModel): LoraLayer[] {
  return model.layers.filter((layer): layer is LoraLayer => layer instanceof LoraLayer);
}
