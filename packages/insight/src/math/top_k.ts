// Top-k (and top-1, argmax) of score rows: [rows, numClasses] row-major probabilities or logits, as the model's
// output comes back from the backend. Shared by evaluation, training, fine-tuning and serving.

/** Predicted class (argmax, lowest index on ties) of every row of probabilities [count, numClasses]. */
export function argmaxRows(probabilities: Float32Array, numClasses: number): Int32Array {
  const count = probabilities.length / numClasses;
  const predicted = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probabilities[i * numClasses + c] > probabilities[i * numClasses + best]) best = c;
    predicted[i] = best;
  }
  return predicted;
}

/**
 * Indices of the k largest values of row `row` of a [rows, numClasses] row-major matrix, largest first
 * (ties: lower index first).
 */
export function topKIndices(values: Float32Array, numClasses: number, row: number, k: number): number[] {
  const offset = row * numClasses;
  const order = Array.from({ length: numClasses }, (_, c) => c);
  order.sort((a, b) => values[offset + b] - values[offset + a] || a - b);
  return order.slice(0, Math.min(k, numClasses));
}

/** Fraction of rows whose label is among the k most probable classes. probabilities: [count, numClasses]. */
export function topKAccuracy(probabilities: Float32Array, labels: Int32Array, numClasses: number, k: number): number {
  if (labels.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    const p = probabilities[i * numClasses + label];
    // The label is in the top k iff fewer than k classes rank above it (higher value, or equal value and lower index).
    let above = 0;
    for (let c = 0; c < numClasses && above < k; c++) {
      const q = probabilities[i * numClasses + c];
      if (q > p || (q === p && c < label)) above++;
    }
    if (above < k) hits++;
  }
  return hits / labels.length;
}
