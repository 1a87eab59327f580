// The distillation benchmark's small student: the reference CNN at a quarter of its widths (conv 8-16-16, dense 16),
// 7,994 parameters for 32x32x3 input and 10 classes (the reference has 122,570). A ModelBuilder module, as
// `insight train --model benchmarks/small_cnn.ts` and `insight distill --student benchmarks/small_cnn.ts` load it.
import * as tfl from '@tensorflow/tfjs-layers';

import type { ModelBuilder } from '../packages/insight/src/models/custom_model';

const build: ModelBuilder = (inputShape, numClasses, { seed }) => {
  const kernel = (k: number) => tfl.initializers.glorotUniform({ seed: seed + k });
  return tfl.sequential({
    name: 'small_cnn',
    layers: [
      tfl.layers.conv2d({ inputShape, filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(0), name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(1), name: 'conv2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(2), name: 'conv3' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: kernel(3), name: 'dense1' }),
      tfl.layers.dense({ units: numClasses, kernelInitializer: kernel(4), name: 'logits' }),
    ],
  });
};
export default build;
