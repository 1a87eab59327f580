// Spearman's rank correlation against values computed by hand (ties share the average of their ranks, as
// scipy.stats.spearmanr does), its edge cases and its errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { averageRanks, spearman } from '../../src/math/spearman';

describe('averageRanks', () => {
  it('ranks from 1, ties share the mean of the ranks they span', () => {
    assert.deepEqual([...averageRanks([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
    assert.deepEqual([...averageRanks([3, 1, 2])], [3, 1, 2]);
    // Three equal values span ranks 2, 3, 4 → 3 each; the two 9s span 5, 6 → 5.5.
    assert.deepEqual([...averageRanks([7, 0, 7, 9, 7, 9])], [3, 1, 3, 5.5, 3, 5.5]);
    assert.deepEqual([...averageRanks([-1.5, -1.5])], [1.5, 1.5]);
  });
});

describe('spearman', () => {
  it('matches hand-computed values without ties', () => {
    // ranks of b: [1, 3, 2, 4]; deviations ±1.5, ±0.5: Σdxdy = 4, Σdx² = Σdy² = 5 → 0.8.
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [10, 30, 20, 40]) - 0.8) < 1e-12);
    // 1 − 6 Σd² / (n (n² − 1)): d = [2, 0, −2] → 1 − 48/24 = −1; d = [1, −1, 0] → 1 − 12/24 = 0.5.
    assert.ok(Math.abs(spearman([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
    assert.ok(Math.abs(spearman([1, 2, 3], [2, 1, 3]) - 0.5) < 1e-12);
  });

  it('matches a hand-computed value with ties (Pearson on average ranks)', () => {
    // b = [5, 6, 7, 8, 7] → ranks [1, 2, 3.5, 5, 3.5]; a's ranks 1..5. Deviations: dx = [−2, −1, 0, 1, 2],
    // dy = [−2, −1, 0.5, 2, 0.5]: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → ρ = 8 / √95 = 0.8207826816681233.
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 8 / Math.sqrt(95)) < 1e-12);
    // Ties on both sides: a ranks [1.5, 1.5, 3, 4], b ranks [1, 2.5, 2.5, 4]: dx = [−1, −1, 0.5, 1.5],
    // dy = [−1.5, 0, 0, 1.5]: Σdxdy = 3.75, Σdx² = 4.5, Σdy² = 4.5 → 0.8333...
    assert.ok(Math.abs(spearman([0, 0, 1, 2], [1, 4, 4, 9]) - 3.75 / 4.5) < 1e-12);
  });

  it('depends on ranks only: any increasing transform gives 1', () => {
    const a = Float32Array.from([0.3, -2, 5, 1e-3, 7, 0.31]);
    assert.equal(spearman(a, a.map((v) => Math.exp(v) * 3)), 1);
    assert.equal(spearman(a, a.map((v) => -v)), -1);
  });

  it('is NaN when a sample is constant (no ordering to compare)', () => {
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
    assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  });

  const fails: [string, ArrayLike<number>, ArrayLike<number>, RegExp][] = [
    ['different lengths', [1, 2, 3], [1, 2], /^Spearman correlation needs two samples of the same length, at least 2\. Received: a\.length=3, b\.length=2\./],
    ['one value', [1], [2], /^Spearman correlation needs two samples of the same length, at least 2\. Received: a\.length=1, b\.length=1\./],
    ['a NaN', [1, 2, 3], [1, NaN, 3], /^Spearman correlation needs finite values\. Received: index=1, value=NaN\. Check the maps/],
  ];
  for (const [what, a, b, message] of fails) {
    it(`rejects ${what}`, () => {
      assert.throws(() => spearman(a, b), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && message.test(e.message));
    });
  }
});
