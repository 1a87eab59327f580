// Per-class precision, recall and F1 from a confusion matrix (row = true, column = predicted). A ratio with a
// zero denominator is 0 (scikit-learn's zero_division=0).

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of examples whose true class this is. */
  support: number;
}

export function perClassMetrics(matrix: number[][], classNames: string[]): ClassMetrics[] {
  return matrix.map((row, c) => {
    const truePositives = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predictedCount = matrix.reduce((sum, r) => sum + r[c], 0);
    const precision = predictedCount === 0 ? 0 : truePositives / predictedCount;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { name: classNames[c] ?? String(c), precision, recall, f1, support };
  });
}

/** Unweighted means over classes (macro average). */
export function macroAverage(perClass: ClassMetrics[]): { precision: number; recall: number; f1: number } {
  const n = perClass.length;
  const mean = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((s, c) => s + c[key], 0) / n;
  return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
}
