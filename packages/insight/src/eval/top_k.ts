// Top-k from probability rows.

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
