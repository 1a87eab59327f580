// A tiny model for tune tests (a model module, as `--model ./file.ts` takes): conv 3x3 (4 filters, relu) → global
// average pool → dense(classes) logits, seeded. Trials of it train in about a second.
import * as tfl from '@tensorflow/tfjs-layers';

export default function build(inputShape: [number, number, number], numClasses: number, { seed }: { seed: number }): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: numClasses, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'tune_tiny' });
}
