// Tapping a layer: the model split at one layer's output A into x → A and (x, A) → output, so that the gradient of
// an output with respect to A is an ordinary gradient with respect to an input (tf.grad). The split is a rebuild of
// the graph in which the tapped layer's output is replaced by a new input; every other layer is re-applied as it
// is, so both halves share the source model's weights. Paths that bypass the layer (a residual shortcut around a
// convolution inside a block) still start from x, which is why the second half takes x too.
import * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';
import { rebuild } from './rebuild';

/** The two halves of a model around one layer's output. */
export interface LayerTap {
  /** The tapped layer's name. */
  layer: string;
  /** x [n, ...input] → A, the layer's output [n, ...layerOutput]. */
  activations: tfl.LayersModel;
  /** [x, A] → the model's output, computed with A in place of the layer's output. */
  fromActivations: tfl.LayersModel;
}

/**
 * Splits `model` at the output of the layer named `name`, which must be applied exactly once in the model's graph
 * and have one output (callers check, with their own messages).
 * Example: `const tap = tapLayer(model, 'conv3'); tap.fromActivations.apply([x, tap.activations.apply(x)])`
 * equals `model.apply(x)`.
 */
export function tapLayer(model: tfl.LayersModel, name: string): LayerTap {
  const x = tfl.input({ shape: model.inputs[0].shape.slice(1) });
  let tapped: tfl.SymbolicTensor | undefined;
  let stand: tfl.SymbolicTensor | undefined;
  const { output } = rebuild(model, x, {
    hook: (step, inputs, apply) => {
      if (step.layer.name !== name) return undefined;
      if (tapped !== undefined || step.outputs.length !== 1) {
        throw ruleError('INSIGHT_E_CONFIG', 'A tapped layer must be applied once in the model and have one output.',
          { model: model.name, layer: name, outputs: step.outputs.length }, 'Tap a layer that is not shared (camLayer lists them).');
      }
      tapped = apply(inputs)[0];
      stand = tfl.input({ shape: tapped.shape.slice(1) });
      return [stand];
    },
  });
  if (tapped === undefined || stand === undefined) {
    throw ruleError('INSIGHT_E_CONFIG', 'A tapped layer must be a layer of the model.', { model: model.name, layer: name },
      `Tap one of: ${model.layers.map((layer) => layer.name).join(', ')}.`);
  }
  return {
    layer: name,
    activations: tfl.model({ inputs: x, outputs: tapped, name: `${model.name}_to_${name}` }),
    fromActivations: tfl.model({ inputs: [x, stand], outputs: output, name: `${model.name}_from_${name}` }),
  };
}
