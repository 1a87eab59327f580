// The confusion matrix: counts[true * numClasses + predicted].

/** [numClasses, numClasses] counts, row = true class, column = predicted class. */
export function confusionMatrix(labels: Int32Array, predicted: Int32Array, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predicted[i]]++;
  return matrix;
}
