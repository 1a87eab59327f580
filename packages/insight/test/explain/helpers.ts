// Shared by the explain tests: the tiny saved-model shape most of them explain, and the house-error assertion.
import assert from 'node:assert/strict';

import * as tfl from '@tensorflow/tfjs-layers';

import type { Normalization } from '../../src/data';
import { InsightError } from '../../src/errors';
import { setInsightMetadata } from '../../src/models/metadata';

export const SIZE = 8;
export const CLASSES = ['cat', 'dog', 'ship'];
export const NORMALIZATION: Normalization = { kind: 'meanstd', mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

/**
 * image [b, 8, 8, 3] → conv(4, relu) c1 → conv(4, relu) c2 → global average pool → dense(3) logits, seeded
 * (glorot seeds seed, seed + 1, seed + 2), with Insight metadata (CLASSES, `normalization`).
 */
export function tinyExplainModel(seed: number, normalization: Normalization = NORMALIZATION): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  const model = tfl.sequential({
    name: 'tiny_explain',
    layers: [
      tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed), name: 'c1' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed + 1), name: 'c2' }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: CLASSES.length, kernelInitializer: init(seed + 2), name: 'logits' }),
    ],
  });
  setInsightMetadata(model, { formatVersion: 1, architecture: 'tiny', architectureOptions: {}, inputShape: [SIZE, SIZE, 3], classNames: CLASSES, normalization });
  return model;
}

/** For assert.rejects / assert.throws: an InsightError with `code` whose message equals or matches `message`. */
export function houseError(code: string, message: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InsightError, String(e));
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  };
}
