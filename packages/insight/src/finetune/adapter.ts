// Bottleneck adapters (Houlsby et al., 2019; Rebuffi et al.'s residual adapters for convnets): after a chosen
// layer, y = x + up(relu(down(x))), with down a 1x1 conv (or Dense on feature vectors) to `bottleneck` channels
// and up a 1x1 conv back, initialised to zero so the adapted model starts exactly as the base. Built from plain
// tfjs-layers layers, so a saved model with adapters is an ordinary TensorFlow.js model that loads anywhere.
import * as tfl from '@tensorflow/tfjs-layers';

import { SeedSequence } from '../models/seeds';

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Appends an adapter to `x` ([batch, h, w, c] feature maps or [batch, c] vectors) and returns its output, of x's
 * shape. Layers are named `<site>_adapter_down|relu|up|add`.
 */
export function applyAdapter(x: SymbolicTensor, site: string, bottleneck: number, seeds: SeedSequence): SymbolicTensor {
  const channels = x.shape[x.shape.length - 1] as number;
  const maps = x.shape.length === 4;
  if (!maps && x.shape.length !== 2) {
    throw new Error(`An adapter goes after a layer with [batch, h, w, c] or [batch, c] output; ${site} outputs ${JSON.stringify(x.shape)}.`);
  }
  const project = (units: number, name: string, initializer: ReturnType<typeof tfl.initializers.zeros>) => maps
    ? tfl.layers.conv2d({ filters: units, kernelSize: 1, name, kernelInitializer: initializer })
    : tfl.layers.dense({ units, name, kernelInitializer: initializer });
  const down = project(bottleneck, `${site}_adapter_down`, tfl.initializers.heNormal({ seed: seeds.take() })).apply(x) as SymbolicTensor;
  const relu = tfl.layers.activation({ activation: 'relu', name: `${site}_adapter_relu` }).apply(down) as SymbolicTensor;
  const up = project(channels, `${site}_adapter_up`, tfl.initializers.zeros()).apply(relu) as SymbolicTensor;
  return tfl.layers.add({ name: `${site}_adapter_add` }).apply([x, up]) as SymbolicTensor;
}
