// Exact k nearest neighbours by cosine similarity. The index holds unit-length embeddings, so similarity is a
// dot product and a whole chunk of the index is scored against every query by one matrix product on the backend
// (tf.matMul), followed by tf.topk. Chunks keep memory bounded (queries x chunkRows scores at a time); each
// chunk's top k is merged with the best so far by a second topk over the 2k candidates, so the result is exact.
// Why cosine and not raw L2: penultimate activations (after ReLU) grow with contrast and confidence, so raw
// distances favour images of similar brightness; the direction of the activation vector is the pattern.
// Distances are reported as 1 − cosine (0 = same direction, 2 = opposite).
import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { unitRows } from './embedding';

/** Index rows scored per matrix product. */
export const CHUNK_ROWS = 8192;

/** The memory: one unit-length embedding per training image. */
export interface KnnIndex {
  count: number;
  dim: number;
  /** [count, dim] row-major, each row of length 1 (or 0 for an all-zero activation). */
  embeddings: Float32Array;
  /** [count] class of each image. */
  labels: Int32Array;
  /** [count] position of each image in its dataset (what to show, e.g. the training image). */
  indices: Int32Array;
}

/** The k nearest index rows of each of q queries, nearest first; arrays are [q, k] row-major. */
export interface Neighbours {
  queries: number;
  k: number;
  /** Index rows. */
  rows: Int32Array;
  /** Dataset positions of those rows (index.indices[row]). */
  indices: Int32Array;
  labels: Int32Array;
  /** Cosine similarity. */
  similarities: Float32Array;
  /** 1 − cosine similarity. */
  distances: Float32Array;
}

/**
 * The k nearest neighbours in `index` of each query embedding. `queries`: [q, dim] raw embeddings (normalized
 * here), as a tensor (kept, the caller owns it) or row-major values.
 * Example: `nearestNeighbours(index, embed(embedding, x), 5)`.
 */
export async function nearestNeighbours(index: KnnIndex, queries: tf.Tensor2D | Float32Array, k: number,
  options: { chunkRows?: number } = {}): Promise<Neighbours> {
  const chunkRows = options.chunkRows ?? CHUNK_ROWS;
  const q = queries instanceof Float32Array ? queries.length / index.dim : queries.shape[0];
  const dim = queries instanceof Float32Array ? index.dim : queries.shape[1];
  if (dim !== index.dim || !Number.isInteger(q)) {
    throw ruleError('INSIGHT_E_MODEL', 'Query embeddings must have the length of the index\'s embeddings.',
      { queryDim: queries instanceof Float32Array ? `${queries.length} values` : dim, indexDim: index.dim },
      'Embed the queries with the model and layer the index was built from (memoryIndexFor rebuilds it for a new model).');
  }
  if (!(Number.isInteger(k) && k >= 1 && k <= index.count)) {
    throw ruleError('INSIGHT_E_CONFIG', `k must be an integer in [1, ${index.count}] (the images in the index).`, { k, indexed: index.count },
      'Ask for fewer neighbours, e.g. k: 5.');
  }
  if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) {
    throw ruleError('INSIGHT_E_CONFIG', 'chunkRows must be a positive integer.', { chunkRows }, 'Omit it for the default (8192).');
  }
  const unit = tf.tidy(() => unitRows(queries instanceof Float32Array ? tf.tensor2d(queries, [q, dim]) : queries));
  type Best = { values: tf.Tensor2D; rows: tf.Tensor2D };
  let best: Best | null = null;
  try {
    for (let start = 0; start < index.count; start += chunkRows) {
      const rows = Math.min(chunkRows, index.count - start);
      const previous: Best | null = best;
      best = tf.tidy((): Best => {
        const chunk = tf.tensor2d(index.embeddings.subarray(start * dim, (start + rows) * dim), [rows, dim]);
        const scores = tf.matMul(unit, chunk, false, true); // [q, rows]
        const top = tf.topk(scores, Math.min(k, rows));
        const topRows = tf.add(top.indices, tf.scalar(start, 'int32')) as tf.Tensor2D;
        if (previous === null) return { values: top.values as tf.Tensor2D, rows: topRows };
        // Merge: the best k of (best so far ∪ this chunk's best), rows gathered along each query's candidates.
        const values: tf.Tensor2D = tf.concat([previous.values, top.values as tf.Tensor2D], 1);
        const candidates: tf.Tensor2D = tf.concat([previous.rows, topRows], 1);
        const merged = tf.topk(values, Math.min(k, values.shape[1]));
        return { values: merged.values as tf.Tensor2D, rows: tf.gather(candidates, merged.indices, 1, 1) as tf.Tensor2D };
      });
      if (previous !== null) tf.dispose([previous.values, previous.rows]);
    }
    const found = best!;
    const [similarities, rowIds] = await Promise.all([found.values.data() as Promise<Float32Array>, found.rows.data() as Promise<Int32Array>]);
    const rowsOut = Int32Array.from(rowIds);
    return {
      queries: q,
      k,
      rows: rowsOut,
      indices: rowsOut.map((r) => index.indices[r]),
      labels: rowsOut.map((r) => index.labels[r]),
      similarities,
      distances: similarities.map((s) => 1 - s),
    };
  } finally {
    tf.dispose(unit);
    if (best !== null) tf.dispose([best.values, best.rows]);
  }
}
