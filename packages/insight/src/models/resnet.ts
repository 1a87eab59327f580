// `resnet`: the CIFAR ResNet of He et al. (2016, section 4.2), built with the tfjs-layers functional API.
import * as tfl from '@tensorflow/tfjs-layers';

import { SeedSequence } from './seeds';

export interface ResnetOptions {
  /** [height, width, channels]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Total weighted layers, 6n+2 (20, 32, 44, 56, 110 ...): three stages of n BasicBlocks. */
  depth: number;
  /** Channels of the first stage; the stages have width, 2*width, 4*width. The paper uses 16. */
  width: number;
  /** Dropout rate before the classifier; 0 means none. */
  dropout: number;
  seed?: number;
}

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Stem conv3x3(width)-BN-ReLU → 3 stages of n BasicBlocks (strides 1, 2, 2) → global average pool → Dense logits.
 * A BasicBlock is conv3x3-BN-ReLU-conv3x3-BN plus a shortcut, then ReLU; where the shape changes the shortcut
 * is a 1x1 convolution with BatchNorm (the paper's option B). Convolutions before BatchNorm have no bias.
 *
 * x: [batch, height, width, channels] float32 → logits: [batch, numClasses]. Valid depths: (depth - 2) % 6 === 0.
 * Example: `buildResnet({ inputShape: [32, 32, 3], numClasses: 10, depth: 20, width: 16, dropout: 0 })`.
 */
export function buildResnet(options: ResnetOptions): tfl.LayersModel {
  const blocksPerStage = (options.depth - 2) / 6;
  const seeds = new SeedSequence(options.seed);
  const conv = (x: SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) =>
    tfl.layers.conv2d({
      filters, kernelSize, strides, padding: 'same', useBias: false, name,
      kernelInitializer: tfl.initializers.heNormal({ seed: seeds.take() }),
    }).apply(x) as SymbolicTensor;
  const bn = (x: SymbolicTensor, name: string) =>
    tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as SymbolicTensor;
  const relu = (x: SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as SymbolicTensor;

  const input = tfl.input({ shape: options.inputShape, name: 'image' });
  let x = relu(bn(conv(input, options.width, 3, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
  for (let stage = 0; stage < 3; stage++) {
    const filters = options.width * 2 ** stage;
    for (let block = 0; block < blocksPerStage; block++) {
      const name = `stage${stage + 1}_block${block + 1}`;
      const strides = stage > 0 && block === 0 ? 2 : 1;
      x = basicBlock(x, filters, strides, name, conv, bn, relu);
    }
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as SymbolicTensor;
  if (options.dropout > 0) x = tfl.layers.dropout({ rate: options.dropout, name: 'dropout' }).apply(x) as SymbolicTensor;
  const logits = tfl.layers.dense({
    units: options.numClasses, name: 'logits', kernelInitializer: tfl.initializers.heNormal({ seed: seeds.take() }),
  }).apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: `resnet${options.depth}` });
}

/** x: [b, h, w, c] → [b, h/strides, w/strides, filters]. */
function basicBlock(
  x: SymbolicTensor, filters: number, strides: number, name: string,
  conv: (x: SymbolicTensor, filters: number, k: number, s: number, name: string) => SymbolicTensor,
  bn: (x: SymbolicTensor, name: string) => SymbolicTensor,
  relu: (x: SymbolicTensor, name: string) => SymbolicTensor,
): SymbolicTensor {
  const inChannels = x.shape[x.shape.length - 1];
  let y = relu(bn(conv(x, filters, 3, strides, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
  y = bn(conv(y, filters, 3, 1, `${name}_conv2`), `${name}_bn2`);
  const shortcut = strides !== 1 || inChannels !== filters
    ? bn(conv(x, filters, 1, strides, `${name}_proj`), `${name}_proj_bn`)
    : x;
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as SymbolicTensor;
  return relu(sum, `${name}_out`);
}
