// The layers of a model that is a chain: each layer takes exactly the previous layer's output. A Sequential model
// is one; so is a functional model built as x → f1 → f2 → ... → logits. Only a chain can be cut between any two
// layers with a single tensor crossing the cut, which is what a pipeline stage sends to the next.
import type * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';

/** The model's layers in order, without its InputLayer; throws when the model is not a single chain. */
export function chainLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw notAChain(model, `it has ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  let previous = model.inputs[0].sourceLayer.name;
  for (const layer of layers) {
    // A layer used once in this model has one inbound node; a shared layer has one per use.
    const nodes = layer.inboundNodes;
    const inbound = nodes.length === 1 ? nodes[0].inboundLayers.map((l) => l.name) : [];
    if (nodes.length !== 1 || inbound.length !== 1 || inbound[0] !== previous) {
      const from = nodes.length === 1 ? inbound : `${nodes.length} calls`;
      throw notAChain(model, `layer "${layer.name}" takes ${JSON.stringify(from)}, not just "${previous}"`);
    }
    previous = layer.name;
  }
  if (layers.length === 0 || model.outputs[0].sourceLayer.name !== previous) {
    throw notAChain(model, `its output is not the last layer's`);
  }
  return layers;
}

function notAChain(model: tfl.LayersModel, why: string): Error {
  return ruleError('INSIGHT_E_CONFIG',
    'A pipeline splits a sequential model (a chain of layers, each taking the previous layer\'s output) at layer boundaries.',
    { model: model.name, why },
    'Pipeline a Sequential model or a functional chain; a model with branches or skip connections (e.g. resnet) cannot be split; train it data-parallel instead.');
}
