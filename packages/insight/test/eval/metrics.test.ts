// Metrics on hand-made predictions: confusion matrix, per-class precision/recall/F1, macro averages, top-k,
// and the aligned text tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { confusionMatrix } from '../../src/eval/confusion_matrix';
import { computeMetrics } from '../../src/eval/metrics';
import { macroAverage, perClassMetrics } from '../../src/eval/per_class';
import { formatConfusionTable, formatPerClassTable } from '../../src/eval/text_report';
import { argmaxRows, topKAccuracy, topKIndices } from '../../src/math/top_k';

// 6 examples, 3 classes. Rows: probabilities; argmax: 0, 1, 1, 2, 2, 0.
const probabilities = new Float32Array([
  0.7, 0.2, 0.1, // true 0 → 0
  0.1, 0.6, 0.3, // true 0 → 1 (0 is 3rd)
  0.2, 0.5, 0.3, // true 1 → 1
  0.1, 0.3, 0.6, // true 1 → 2 (1 is 2nd)
  0.1, 0.2, 0.7, // true 2 → 2
  0.5, 0.1, 0.4, // true 2 → 0 (2 is 2nd)
]);
const labels = new Int32Array([0, 0, 1, 1, 2, 2]);
const names = ['cat', 'dog', 'ship'];

describe('classification metrics', () => {
  it('confusion matrix: rows true, columns predicted', () => {
    const predicted = argmaxRows(probabilities, 3);
    assert.deepEqual(Array.from(predicted), [0, 1, 1, 2, 2, 0]);
    assert.deepEqual(confusionMatrix(labels, predicted, 3), [[1, 1, 0], [0, 1, 1], [1, 0, 1]]);
  });

  it('precision, recall, F1 and support per class; zero division gives 0', () => {
    const perClass = perClassMetrics([[1, 1, 0], [0, 1, 1], [1, 0, 1]], names);
    for (const c of perClass) {
      assert.equal(c.precision, 0.5);
      assert.equal(c.recall, 0.5);
      assert.equal(c.f1, 0.5);
      assert.equal(c.support, 2);
    }
    const skewed = perClassMetrics([[3, 1, 0], [0, 0, 0], [2, 0, 0]], names);
    assert.deepEqual(skewed.map((c) => [c.precision, c.recall, c.support]), [[0.6, 0.75, 4], [0, 0, 0], [0, 0, 2]]);
    assert.ok(Math.abs(skewed[0].f1 - (2 * 0.6 * 0.75) / 1.35) < 1e-12);
    // The macro average leaves out class 1, which has no examples: (0.6 + 0) / 2, (0.75 + 0) / 2.
    const macro = macroAverage(skewed);
    assert.ok(Math.abs(macro.precision - 0.3) < 1e-12 && Math.abs(macro.recall - 0.375) < 1e-12, JSON.stringify(macro));
  });

  it('the macro average counts only classes with examples (data holding a subset of the classes)', () => {
    // 4 classes, examples of classes 0 and 2 only; class 1 and 3 are predicted (wrongly) once each.
    const perClass = perClassMetrics([[8, 1, 1, 0], [0, 0, 0, 0], [2, 0, 7, 1], [0, 0, 0, 0]], ['a', 'b', 'c', 'd']);
    assert.deepEqual(perClass.map((c) => c.support), [10, 0, 10, 0]);
    // By hand, as scikit-learn's precision_recall_fscore_support(..., labels=[0, 2], average='macro'):
    // precision (8/10 + 7/8) / 2, recall (8/10 + 7/10) / 2, F1 (0.8 + 2·0.875·0.7/1.575) / 2.
    const macro = macroAverage(perClass);
    assert.ok(Math.abs(macro.precision - 0.8375) < 1e-12, `precision ${macro.precision}`);
    assert.ok(Math.abs(macro.recall - 0.75) < 1e-12, `recall ${macro.recall}`);
    assert.ok(Math.abs(macro.f1 - (0.8 + 0.7 / 0.9) / 2) < 1e-12, `f1 ${macro.f1}`);
    // Counting the empty classes as 0 (the old behaviour) would have given half of each.
    assert.ok(macro.f1 > 0.78);
    assert.ok(Number.isNaN(macroAverage(perClassMetrics([[0, 0], [0, 0]], ['a', 'b'])).f1), 'no examples at all: NaN');
  });

  it('top-k accuracy and top-k indices', () => {
    assert.equal(topKAccuracy(probabilities, labels, 3, 1), 3 / 6);
    assert.equal(topKAccuracy(probabilities, labels, 3, 2), 5 / 6);
    assert.equal(topKAccuracy(probabilities, labels, 3, 3), 1);
    assert.deepEqual(topKIndices(probabilities, 3, 5, 2), [0, 2]);
    // Ties rank the lower index first, in both functions.
    const tied = new Float32Array([0.5, 0.5]);
    assert.deepEqual(topKIndices(tied, 2, 0, 1), [0]);
    assert.equal(topKAccuracy(tied, new Int32Array([1]), 2, 1), 0);
  });

  it('computeMetrics puts it together', () => {
    const m = computeMetrics({ count: 6, numClasses: 3, labels, probabilities, loss: 0.9 }, names, [2, 5]);
    assert.equal(m.accuracy, 0.5);
    assert.deepEqual(m.topK, { 2: 5 / 6 }); // k = 5 > 3 classes is left out
    assert.deepEqual(m.confusion, [[1, 1, 0], [0, 1, 1], [1, 0, 1]]);
    assert.equal(m.macro.f1, 0.5);
  });

  it('formats aligned tables', () => {
    const m = computeMetrics({ count: 6, numClasses: 3, labels, probabilities, loss: 0.9 }, names, [2]);
    assert.equal(formatPerClassTable(m), [
      'class      precision  recall      f1  support',
      '---------  ---------  ------  ------  -------',
      'cat           0.5000  0.5000  0.5000        2',
      'dog           0.5000  0.5000  0.5000        2',
      'ship          0.5000  0.5000  0.5000        2',
      'macro avg     0.5000  0.5000  0.5000        6',
      '',
      // ECE (15 bins): confidences .5 (right, wrong) gap 0; .6 (wrong, wrong) gap .6; .7 (right, right) gap .3 → 1.8 / 6.
      'examples 6 - loss 0.9000 - accuracy 0.5000 - top-2 accuracy 0.8333 - ECE 0.3000 - MCE 0.6000',
    ].join('\n'));
    assert.equal(formatConfusionTable(m), [
      'true \\ predicted  0  1  2',
      '----------------  -  -  -',
      '0 cat             1  1  0',
      '1 dog             0  1  1',
      '2 ship            1  0  1',
    ].join('\n'));
  });
});
