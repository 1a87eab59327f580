// Looking images up in a memory index: each query image is embedded with the model and layer the index was built
// from (memory.json's layer), then matched exactly against every indexed embedding (knn_index.ts).
import type * as tfl from '@tensorflow/tfjs-layers';

import type { tf } from '../../backend';
import { embed, embeddingModel } from './embedding';
import { nearestNeighbours, type Neighbours } from './knn_index';
import type { MemoryIndex } from './store';

/**
 * The k nearest indexed images of each image of x [n, H, W, C] (normalized model inputs), nearest first.
 * Example: `const found = await neighboursOf(await memoryIndexFor(run, model, train), model, x, 5)`.
 */
export async function neighboursOf(memory: Pick<MemoryIndex, 'index' | 'info'>, model: tfl.LayersModel, x: tf.Tensor4D, k: number): Promise<Neighbours> {
  const queries = embed(embeddingModel(model, memory.info.layer), x);
  try {
    return await nearestNeighbours(memory.index, queries, k);
  } finally {
    queries.dispose();
  }
}
