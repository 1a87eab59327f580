// Histograms in TensorBoard's HistogramProto form: statistics, right-closed equal-width buckets, edge cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { histogramOf } from '../../src/track/histogram';

describe('histogramOf', () => {
  it('computes min, max, count, sum, sum of squares and buckets that cover every value once', () => {
    const values = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const { histo, nonFinite } = histogramOf(values, 5);
    assert.equal(nonFinite, 0);
    assert.deepEqual({ ...histo, bucket_limit: undefined, bucket: undefined },
      { min: 0, max: 10, num: 11, sum: 55, sum_squares: 385, bucket_limit: undefined, bucket: undefined });
    assert.deepEqual(histo!.bucket_limit, [2, 4, 6, 8, 10]);
    // (-, 2] gets 0, 1, 2 (min joins the first bucket); (2, 4] gets 3, 4; ...
    assert.deepEqual(histo!.bucket, [3, 2, 2, 2, 2]);
  });

  it('leaves non-finite values out and counts them', () => {
    const { histo, nonFinite } = histogramOf([1, NaN, 3, Infinity, -Infinity], 2);
    assert.equal(nonFinite, 3);
    assert.deepEqual(histo, { min: 1, max: 3, num: 2, sum: 4, sum_squares: 10, bucket_limit: [2, 3], bucket: [1, 1] });
    assert.deepEqual(histogramOf([NaN]), { histo: null, nonFinite: 1 });
    assert.deepEqual(histogramOf([]), { histo: null, nonFinite: 0 });
  });

  it('a constant tensor is one bucket', () => {
    assert.deepEqual(histogramOf(new Float32Array(4).fill(0.5)).histo,
      { min: 0.5, max: 0.5, num: 4, sum: 2, sum_squares: 1, bucket_limit: [0.5], bucket: [4] });
  });

  it('the bucket counts always sum to the count (random normal values)', () => {
    let seed = 3;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = Float32Array.from({ length: 10_000 }, () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()));
    const { histo } = histogramOf(values);
    assert.equal(histo!.bucket.length, 30);
    assert.equal(histo!.bucket.reduce((a, b) => a + b, 0), 10_000);
    assert.equal(histo!.bucket_limit.at(-1), histo!.max);
    const middle = histo!.bucket.slice(12, 18).reduce((a, b) => a + b, 0);
    assert.ok(middle > histo!.bucket.slice(0, 6).reduce((a, b) => a + b, 0) * 10, 'bell-shaped');
  });
});
