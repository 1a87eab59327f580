// One layers model from several: the input, each member's graph re-applied with its layers renamed `m<i>_<name>`
// (copies holding the member's weights, so two members built from one architecture never share a layer or a weight
// name), then per member softmax(logits / T) — or its output as it is when that already is probabilities (a nested
// ensemble) — scaled by its weight, and the sum: [batch, H, W, C] → probabilities [batch, numClasses].
// Only tfjs-layers' own classes are added (Rescaling for 1/T and the weights, Activation('softmax'), Add), so plain
// TensorFlow.js loads the result with tf.loadLayersModel and no custom classes (beyond any the members themselves use).
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { rebuild } from '../models/graph';

/** One member as the graph needs it. */
export interface GraphMember {
  model: tfl.LayersModel;
  /** Share of the average (the members' weights sum to 1). */
  weight: number;
  /** 'logits': softmax(output / temperature) is applied; 'probabilities': the output is used as it is. */
  output: 'logits' | 'probabilities';
  /** Temperature of the member's softmax (1 = none); only for 'logits'. */
  temperature: number;
}

/** The prefix of member `index`'s layer names in the ensemble (index from 0). */
export const memberPrefix = (index: number) => `m${index}_`;

/**
 * The ensemble of `members` as one LayersModel named `name`. Input [batch, ...inputShape] → output 'probabilities'
 * [batch, numClasses]. The members are left untouched (the ensemble holds copies of their weights): dispose them after.
 */
export function buildEnsembleModel(members: GraphMember[], inputShape: [number, number, number], name = 'ensemble'): tfl.LayersModel {
  if (members.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'An ensemble needs at least one member.', { members: [] }, 'Pass the members\' models, e.g. buildEnsembleModel([m1, m2], inputShape).');
  }
  const input = tfl.input({ shape: inputShape, name: 'input' });
  const scaled = members.map((member, i) => {
    const prefix = memberPrefix(i);
    const copies = new Map<tfl.layers.Layer, ReturnType<typeof renamedCopy>>(); // a layer applied twice stays one (shared) copy
    const { output } = rebuild(member.model, input, {
      hook: (step, inputs) => {
        if (!copies.has(step.layer)) copies.set(step.layer, renamedCopy(step.layer, prefix));
        return copies.get(step.layer)!.apply1(inputs);
      },
    });
    let probabilities = output;
    if (member.output === 'logits') {
      const logits = member.temperature === 1 ? output
        : apply(tfl.layers.rescaling({ scale: 1 / member.temperature, name: `${prefix}temperature` }), output);
      probabilities = apply(tfl.layers.activation({ activation: 'softmax', name: `${prefix}softmax` }), logits);
    }
    return apply(tfl.layers.rescaling({ scale: member.weight, name: `${prefix}weight` }), probabilities);
  });
  const sum = scaled.length === 1
    ? apply(tfl.layers.activation({ activation: 'linear', name: 'probabilities' }), scaled[0])
    : tfl.layers.add({ name: 'probabilities' }).apply(scaled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: sum, name });
}

function apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}

/**
 * A new layer of `layer`'s class and config under the name prefix + its name; `apply1` applies it to symbolic inputs
 * (the first application builds its weights, into which `layer`'s weight values are then copied).
 */
function renamedCopy(layer: tfl.layers.Layer, prefix: string): { apply1: (inputs: tfl.SymbolicTensor[]) => tfl.SymbolicTensor[] } {
  const className = layer.getClassName();
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (registered === undefined) {
    throw ruleError('INSIGHT_E_MODEL', 'An ensemble copies its members\' layers, so every layer class must be registered with tf.serialization.',
      { layer: layer.name, className }, 'Register the custom layer class (tf.serialization.registerClass) before building the ensemble.');
  }
  const [cls, fromConfig] = registered;
  const copy = fromConfig(cls, { ...layer.getConfig(), name: `${prefix}${layer.name}` }) as tfl.layers.Layer;
  let copied = false;
  return {
    apply1: (inputs) => {
      const out = copy.apply(inputs.length === 1 ? inputs[0] : inputs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
      if (!copied && layer.weights.length > 0) copy.setWeights(layer.getWeights()); // built by its first application
      copied = true;
      return Array.isArray(out) ? out : [out];
    },
  };
}
