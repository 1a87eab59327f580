// `seed-cnn`: the network of the Keras "Convolutional Neural Network (CNN)" tutorial, layer for layer.
import * as tfl from '@tensorflow/tfjs-layers';

import { SeedSequence } from './seeds';

export interface SeedCnnOptions {
  /** [height, width, channels]; the tutorial uses [32, 32, 3]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Dropout rate before each Dense layer; 0 (the tutorial) means no Dropout layers. */
  dropout: number;
  /** Seeds every kernel initializer; undefined leaves TensorFlow.js's unseeded defaults. */
  seed?: number;
}

/**
 * Conv2D(32,3x3,relu) → MaxPool(2) → Conv2D(64,3x3,relu) → MaxPool(2) → Conv2D(64,3x3,relu) → Flatten →
 * Dense(64,relu) → Dense(numClasses) logits. 122,570 parameters for [32, 32, 3] input and 10 classes.
 *
 * x: [batch, height, width, channels] float32 → logits: [batch, numClasses].
 * Example: `buildSeedCnn({ inputShape: [32, 32, 3], numClasses: 10, dropout: 0, seed: 1 }).summary()`.
 */
export function buildSeedCnn(options: SeedCnnOptions): tfl.Sequential {
  const seeds = new SeedSequence(options.seed);
  const kernel = () => tfl.initializers.glorotUniform({ seed: seeds.take() });
  const model = tfl.sequential({ name: 'seed_cnn' });
  model.add(tfl.layers.conv2d({
    inputShape: options.inputShape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(), name: 'conv1',
  }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(), name: 'conv2' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(), name: 'conv3' }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  if (options.dropout > 0) model.add(tfl.layers.dropout({ rate: options.dropout, name: 'dropout1' }));
  model.add(tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: kernel(), name: 'dense1' }));
  if (options.dropout > 0) model.add(tfl.layers.dropout({ rate: options.dropout, name: 'dropout2' }));
  model.add(tfl.layers.dense({ units: options.numClasses, kernelInitializer: kernel(), name: 'logits' }));
  return model;
}
