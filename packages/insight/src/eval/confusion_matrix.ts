// The confusion matrix: counts[true * numClasses + predicted].

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

/** [numClasses, numClasses] counts, row = true class, column = predicted class. */
export function confusionMatrix(labels: Int32Array, predicted: Int32Array, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predicted[i]]++;
  return matrix;
}
