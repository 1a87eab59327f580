// Tiny, learnable, deterministic data and models for training-loop tests (fast on any backend).
import * as tfl from '@tensorflow/tfjs-layers';

import type { ImageDataset } from '../../src/data';

/** `count` images of size x size; class c images are bright in channel c, plus deterministic noise. */
export function tinyDataset(count = 64, size = 8, classes = 3): ImageDataset {
  const images = new Uint8Array(count * size * size * 3);
  const labels = new Int32Array(count);
  let state = 12345;
  const noise = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % 96;
  };
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    labels[i] = label;
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) images[(i * size * size + p) * 3 + c] = (c === label ? 128 : 0) + noise();
    }
  }
  return { images, labels, count, height: size, width: size, channels: 3, classNames: Array.from({ length: classes }, (_, c) => `class${c}`) };
}

/** conv 3x3 (4 filters, relu) → flatten → [dropout] → dense(classes) logits, seeded. */
export function tinyModel(seed: number, { size = 8, classes = 3, dropout = 0 } = {}): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({ inputShape: [size, size, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.flatten(),
  ];
  if (dropout > 0) layers.push(tfl.layers.dropout({ rate: dropout }));
  layers.push(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return tfl.sequential({ layers });
}

/** All weights of a model as plain arrays (for exact comparisons). */
export function weightsOf(model: tfl.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}
