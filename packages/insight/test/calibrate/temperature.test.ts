// Temperature scaling: on synthetic logits whose labels are drawn from softmax(z / T*) with a seeded RNG, the fit
// recovers T*; the fitted T is the minimum of the NLL (checked against a grid); separable logits stop at a bound.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import { fitTemperature, temperatureNll, temperatureSoftmax } from '../../src/calibrate/temperature';
import { streamRng } from '../../src/data/random';

/** n rows of `classes` logits ~ N(0, 3²) and labels drawn from softmax(z / trueT). */
function synthetic(n: number, classes: number, trueT: number, seed: number): { logits: Float32Array; labels: Int32Array } {
  const rng = streamRng(seed, 'temperature');
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const logits = new Float32Array(n * classes);
  const labels = new Int32Array(n);
  const p = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, (logits[i * classes + k] = 3 * gaussian()));
    let total = 0;
    for (let k = 0; k < classes; k++) total += (p[k] = Math.exp((logits[i * classes + k] - max) / trueT));
    let u = rng() * total;
    let label = classes - 1;
    for (let k = 0; k < classes; k++) if ((u -= p[k]) < 0) { label = k; break; }
    labels[i] = label;
  }
  return { logits, labels };
}

describe('temperature scaling', () => {
  before(async () => {
    await initBackend('torch');
  });

  it('recovers the temperature the labels were drawn with (T* = 2 and T* = 0.5)', () => {
    for (const trueT of [2, 0.5]) {
      const { logits, labels } = synthetic(8000, 10, trueT, trueT === 2 ? 1 : 2);
      const fit = fitTemperature(logits, labels, 10);
      assert.ok(Math.abs(fit.temperature - trueT) < 0.05 * trueT, `T* ${trueT}: fitted ${fit.temperature}, ${fit.iterations} iterations`);
      assert.ok(fit.nllAfter < fit.nllBefore, `NLL ${fit.nllBefore} → ${fit.nllAfter}`);
      assert.ok(fit.iterations < 20, `${fit.iterations} iterations`);
      assert.equal(fit.atBound, false);
    }
  });

  it('the fitted T is the NLL minimum: no grid temperature does better, NLL values agree', () => {
    const { logits, labels } = synthetic(3000, 5, 1.6, 3);
    const fit = fitTemperature(logits, labels, 5);
    assert.ok(Math.abs(temperatureNll(logits, labels, 5, fit.temperature) - fit.nllAfter) < 1e-6);
    assert.ok(Math.abs(temperatureNll(logits, labels, 5, 1) - fit.nllBefore) < 1e-6);
    for (let t = 0.5; t <= 4; t += 0.1) {
      assert.ok(temperatureNll(logits, labels, 5, t) >= fit.nllAfter - 1e-6, `T=${t.toFixed(2)} beats the fit ${fit.temperature}`);
    }
    // By hand for one row: softmax([2, 0] / 2) = [e/(e+1), 1/(e+1)] → NLL of label 0 = log(1 + e^-1).
    assert.ok(Math.abs(temperatureNll(new Float32Array([2, 0]), new Int32Array([0]), 2, 2) - Math.log(1 + Math.exp(-1))) < 1e-6);
  });

  it('separable logits want T → 0: the fit stops at the lower bound and says so', () => {
    const logits = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]); // every example right, margin 1
    const fit = fitTemperature(logits, new Int32Array([0, 1, 2]), 3, { minTemperature: 0.1 });
    assert.ok(Math.abs(fit.temperature - 0.1) < 1e-4, `T ${fit.temperature}`);
    assert.equal(fit.atBound, true);
  });

  it('temperatureSoftmax is softmax(z / T); bad inputs are refused', () => {
    const p = temperatureSoftmax(new Float32Array([2, 0, 0, 0]), 2, 2);
    const e = Math.E;
    assert.deepEqual(Array.from(p).map((v) => +v.toFixed(6)), [e / (e + 1), 1 / (e + 1), 0.5, 0.5].map((v) => +v.toFixed(6)));
    assert.throws(() => fitTemperature(new Float32Array(0), new Int32Array(0), 3), /at least one example/);
    assert.throws(() => fitTemperature(new Float32Array(4), new Int32Array(2), 2, { minTemperature: 2, maxTemperature: 1 }),
      /0 < minTemperature < maxTemperature/);
  });
});
