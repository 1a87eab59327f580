// What the pipeline workers and the single-process reference share: the seed CNN (seeded), one deterministic
// global batch, the training settings, and a case: how many micro-batches, how much dropout, where the stages split.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../../src/backend';
import { buildSeedCnn } from '../../../src/models';

export const SETUP = { batchSize: 10, steps: 3, lr: 1e-3, seed: 11, classes: 10 } as const;

/** One pipeline training case (a worker gets it as JSON on its command line). */
export interface PipelineCase {
  /** M, micro-batches per step. */
  microBatches: number;
  /** The seed CNN's dropout rate (0: no dropout layer). */
  dropout: number;
  /** Where stage 1 starts (a layer index); absent: the FLOPs-balanced split. */
  boundary?: number;
}

export const PLAIN: PipelineCase = { microBatches: 4, dropout: 0 };

export function setupModel(dropout = 0) {
  return buildSeedCnn({ inputShape: [32, 32, 3], numClasses: SETUP.classes, dropout, seed: SETUP.seed });
}

/** x: [batchSize, 32, 32, 3] in [-1, 1) from a fixed LCG; y: [batchSize] int32 labels i * 7 mod 10. */
export function setupBatch(): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const n = SETUP.batchSize * 32 * 32 * 3;
  const values = new Float32Array(n);
  let state = 2024;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  const labels = Int32Array.from({ length: SETUP.batchSize }, (_, i) => (i * 7) % SETUP.classes);
  return { x: tf.tensor4d(values, [SETUP.batchSize, 32, 32, 3]), y: tf.tensor1d(labels, 'int32') };
}

/** A worker's report, written as JSON to the file its command line names. */
export interface WorkerReport {
  rank: number;
  layerNames: string[];
  params: number;
  /** Weights of the stage's layers after training, by variable name. */
  weights: Record<string, number[]>;
  /** Per step: the global batch's mean loss (last stage) or null. */
  losses: (number | null)[];
  stepMs: number[];
  /** Live tensors after training minus before it (0: nothing leaked). */
  leaked: number;
}

/** Trainable weights of `layers` as plain arrays, keyed 'layer/index' (e.g. 'conv1/0' the kernel, 'conv1/1' the bias). */
export function weightsByLayer(layers: tfl.layers.Layer[]): Record<string, number[]> {
  return Object.fromEntries(layers.flatMap((l) => l.trainableWeights.map((w, i) => [`${l.name}/${i}`, Array.from(w.read().dataSync())])));
}
