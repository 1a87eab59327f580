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

/**
 * Unweighted means over the classes that have examples (support > 0): a class absent from the evaluated data has
 * no recall to speak of, and counting it as 0 would punish a model for classes nobody asked about (e.g. a folder
 * holding 2 of a model's 10 classes). This is scikit-learn's `precision_recall_fscore_support(y_true, y_pred,
 * labels=np.unique(y_true), average='macro')`; NaN when no class has examples.
 */
export function macroAverage(perClass: ClassMetrics[]): { precision: number; recall: number; f1: number } {
  const present = perClass.filter((c) => c.support > 0);
  const mean = (key: 'precision' | 'recall' | 'f1') => present.reduce((s, c) => s + c[key], 0) / present.length;
  return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
}
