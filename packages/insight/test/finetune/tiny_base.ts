// A tiny functional base with BatchNorm (conv-BN-relu x2 → flatten → dense features → dense logits), seeded, with
// Insight metadata; tests fine-tune it on the tiny datasets of test/train/tiny.ts in seconds.
import * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, type ImageDataset } from '../../src/data';
import { setInsightMetadata } from '../../src/models/metadata';

type SymbolicTensor = tfl.SymbolicTensor;

/** image [b, size, size, 3] → logits [b, classes]; layer names c1 bn1 r1 c2 bn2 r2 flatten features logits. */
export function tinyBase(seed = 1, { size = 8, classes = 3, metadata = true } = {}): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, 3], name: 'image' });
  const conv = (x: SymbolicTensor, name: string, s: number) =>
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name, kernelInitializer: tfl.initializers.glorotUniform({ seed: s }) }).apply(x) as SymbolicTensor;
  const bn = (x: SymbolicTensor, name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9 }).apply(x) as SymbolicTensor;
  const relu = (x: SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as SymbolicTensor;
  let x = relu(bn(conv(input, 'c1', seed), 'bn1'), 'r1');
  x = relu(bn(conv(x, 'c2', seed + 1), 'bn2'), 'r2');
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor;
  x = tfl.layers.dense({ units: 6, activation: 'relu', name: 'features', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) }).apply(x) as SymbolicTensor;
  const logits = tfl.layers.dense({ units: classes, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }) }).apply(x) as SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: logits, name: 'tiny_base' });
  if (!metadata) return model;
  setInsightMetadata(model, {
    formatVersion: 1, architecture: 'tiny', architectureOptions: {}, inputShape: [size, size, 3],
    classNames: Array.from({ length: classes }, (_, c) => `base${c}`), normalization: { kind: 'scale' },
  });
  return model;
}

export function tinyLoader(ds: ImageDataset, batchSize = 16): DataLoader {
  return new DataLoader(ds, { batchSize, seed: 1, shuffle: true, workers: 0 });
}

/** name → values of every weight of a model (trainable or not). */
export function weightMap(model: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.name, (w.read().dataSync() as Float32Array).slice()]));
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}
