// The seeded Gamma/Beta sampler behind λ ~ Beta(α, α): moments over many draws, small shapes that would underflow
// a naive boost, and the same stream for the same key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { streamRng } from '../../../src/data/random';
import { betaDraw, logGammaDraw, normalDraw } from '../../../src/train/mixing/beta';

const DRAWS = 40_000;

function moments(draw: () => number): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < DRAWS; i++) {
    const value = draw();
    sum += value;
    squares += value * value;
  }
  const mean = sum / DRAWS;
  return { mean, variance: squares / DRAWS - mean * mean };
}

describe('Beta sampler', () => {
  // Tolerances are about 5 standard errors of the estimate at 40,000 draws (the streams are seeded: no flakes).
  for (const [a, b] of [[0.2, 0.2], [1, 1], [1, 1.5], [2, 5], [0.5, 3]]) {
    it(`Beta(${a}, ${b}): mean a/(a+b) and variance ab/((a+b)²(a+b+1)) over ${DRAWS} draws`, () => {
      const rng = streamRng(7, 'beta-test', a, b);
      let low = Infinity;
      let high = -Infinity;
      const { mean, variance } = moments(() => {
        const value = betaDraw(rng, a, b);
        low = Math.min(low, value);
        high = Math.max(high, value);
        return value;
      });
      const expectedMean = a / (a + b);
      const expectedVariance = (a * b) / ((a + b) ** 2 * (a + b + 1));
      assert.ok(Math.abs(mean - expectedMean) < 5 * Math.sqrt(expectedVariance / DRAWS), `mean ${mean} vs ${expectedMean}`);
      assert.ok(Math.abs(variance / expectedVariance - 1) < 0.04, `variance ${variance} vs ${expectedVariance}`);
      assert.ok(low >= 0 && high <= 1, `draws in [0, 1]: ${low}..${high}`);
    });
  }

  it('Gamma(k): mean and variance k; the standard normal: mean 0, variance 1', () => {
    for (const shape of [0.3, 1, 2.5, 9]) {
      const rng = streamRng(3, 'gamma-test', shape);
      const { mean, variance } = moments(() => Math.exp(logGammaDraw(rng, shape)));
      assert.ok(Math.abs(mean - shape) < 5 * Math.sqrt(shape / DRAWS), `Gamma(${shape}) mean ${mean}`);
      assert.ok(Math.abs(variance / shape - 1) < 0.06, `Gamma(${shape}) variance ${variance}`);
    }
    const rng = streamRng(3, 'normal-test');
    const { mean, variance } = moments(() => normalDraw(rng));
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(DRAWS), `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.04, `variance ${variance}`);
  });

  it('tiny α stays a number in [0, 1] (93% within 1e-6 of the ends) where U^(1/α) underflows', () => {
    const rng = streamRng(1, 'tiny-alpha');
    const draws = Array.from({ length: 5000 }, () => betaDraw(rng, 0.005, 0.005));
    assert.ok(draws.every((d) => Number.isFinite(d) && d >= 0 && d <= 1));
    // P(X < x) ≈ x^α / (α·B(α, α)) ≈ x^α / 2 for small α: 93% of the draws lie within 1e-6 of 0 or 1.
    const ends = draws.filter((d) => d < 1e-6 || d > 1 - 1e-6).length / draws.length;
    assert.ok(Math.abs(ends - 1e-6 ** 0.005) < 0.02, `${ends} at the ends`);
    const mean = draws.reduce((s, d) => s + d, 0) / draws.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `symmetric: mean ${mean}`);
  });

  it('the same key gives the same draws; another key others', () => {
    const draw = (step: number) => { const rng = streamRng(5, 'mixing', step); return Array.from({ length: 20 }, () => betaDraw(rng, 0.4, 0.4)); };
    assert.deepEqual(draw(1), draw(1));
    assert.notDeepEqual(draw(1), draw(2));
  });

  it('refuses a shape that is not a positive number', () => {
    const rng = streamRng(0);
    assert.throws(() => logGammaDraw(rng, 0), /Gamma shape must be a positive finite number, got 0/);
    assert.throws(() => logGammaDraw(rng, Number.NaN), /got NaN/);
  });
});
