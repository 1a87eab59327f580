// Makes dropout repeatable and resumable. tfjs-layers' Dropout draws its mask from `layer.seed` (JavaScript
// random numbers, the same on every backend) or, unseeded, from Math.random. Before every training step the
// trainer gives each Dropout layer a seed derived from (run seed, step, micro-batch, layer), so masks differ
// between steps yet are a pure function of the step — which a checkpoint stores.
import type * as tfl from '@tensorflow/tfjs-layers';

import { mixSeeds } from '../models/seeds';

type Seeded = { seed?: number };

/** The layers (recursively through nested models) that take a `seed` at call time: Dropout and its kin. */
function seededLayers(model: tfl.LayersModel): (tfl.layers.Layer & Seeded)[] {
  const found: (tfl.layers.Layer & Seeded)[] = [];
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const layer of layers) {
      const nested = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(nested)) visit(nested);
      else if (layer.getClassName().endsWith('Dropout')) found.push(layer as tfl.layers.Layer & Seeded);
    }
  };
  visit(model.layers);
  return found;
}

/**
 * Seeds every dropout layer of `model` for (seed, step, micro-batch) and, in data-parallel training, the rank (rank
 * 0's seeds are one process's, so its masks are the first rows of one process's; the other ranks draw their own,
 * not a copy of rank 0's). Returns a function restoring the old seeds.
 */
export function seedDropout(model: tfl.LayersModel, seed: number, step: number, micro: number, rank = 0): () => void {
  const layers = seededLayers(model);
  const previous = layers.map((layer) => layer.seed);
  layers.forEach((layer, i) => {
    layer.seed = rank === 0 ? mixSeeds(seed, step, micro, i) : mixSeeds(seed, step, micro, i, rank);
  });
  return () => layers.forEach((layer, i) => {
    layer.seed = previous[i];
  });
}
