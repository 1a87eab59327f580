// Your own model, trained by Insight as a zoo model is: run directory, checkpoints, metrics, TensorBoard, report,
// and a saved model that predict, evaluate, serve and explain read (metadata: class names, input shape,
// normalization; architecture 'custom', with where it came from). The module's default export is a ModelBuilder:
// (inputShape, numClasses, { seed, classNames }) => LayersModel, returning logits (no softmax). Use it as
//
//   insight train --model examples/custom-model.ts --data photos/ --epochs 5      # the CLI imports this module
//   node --import tsx examples/custom-model.ts --data photos/ --epochs 5          # train({ model: build }), below
//
// (In a checkout of the repository, add --conditions=source to node so '@insight/insight' is read from src/.)
// tf and tfl come from '@insight/insight': the TensorFlow.js Insight runs on, so there is only one copy of it.
import { parseArgs } from 'node:util';

import { predict, tfl, train, type ModelBuilder } from '@insight/insight';

/** conv 3x3 (16, relu) → max-pool 2 → conv 3x3 (32, relu) → global average pool → dense(numClasses) logits. */
const build: ModelBuilder = (inputShape, numClasses, { seed }) => {
  const input = tfl.input({ shape: inputShape });
  let x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: numClasses, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'small_convnet' });
};
export default build;

/** The library way: train this builder on --data, then classify a few of the images with the saved run. */
async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { data: { type: 'string' }, epochs: { type: 'string', default: '5' }, limit: { type: 'string' } } });
  const { runDir, report, model } = await train({
    model: build, data: args.data, epochs: Number(args.epochs), limit: args.limit === undefined ? null : Number(args.limit),
  });
  model.dispose();
  console.log(`${runDir}: accuracy ${report.accuracy.toFixed(4)} on ${report.count} images`);
  if (args.data !== undefined) {
    // A file that cannot be read as an image comes back with its reason (error) and no classes.
    for (const { file, top, error } of (await predict({ model: runDir, images: [args.data], topK: 1 })).slice(0, 5)) {
      console.log(error === undefined ? `${file}: ${top[0].className} (${top[0].probability.toFixed(2)})` : `${file}: skipped (${error})`);
    }
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
