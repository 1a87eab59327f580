// Expected / maximum calibration error on a hand-made example (worked out in the comments), its bin edges, and a
// random case against a plain per-example reference loop.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import { calibrationOf, checkBins } from '../../src/calibrate/ece';
import { streamRng } from '../../src/data/random';

// 8 examples, 4 classes, 4 bins: (0, .25], (.25, .5], (.5, .75], (.75, 1] (right-closed, as Guo et al. 2017).
//       probabilities            label  top-1 conf  predicted  correct  bin
// a  [1,    0,    0,    0   ]    0      1.00        0          yes      3
// b  [.75,  .25,  0,    0   ]    1      .75 (edge)  0          no       2
// c  [.25,  .25,  .25,  .25 ]    0      .25 (edge)  0 (first)  yes      0
// d  [.5,   .3,   .1,   .1  ]    0      .50 (edge)  0          yes      1
// e  [.1,   .6,   .2,   .1  ]    1      .60         1          yes      2
// f  [.2,   .1,   .7,   0   ]    3      .70         2          no       2
// g  [.05,  .05,  .05,  .85 ]    3      .85         3          yes      3
// h  [.9,   .1,   0,    0   ]    1      .90         0          no       3
// bin 0: {c}      count 1, accuracy 1,   confidence .25                      gap .75
// bin 1: {d}      count 1, accuracy 1,   confidence .5                       gap .5
// bin 2: {b,e,f}  count 3, accuracy 1/3, confidence (.75+.6+.7)/3 = .68333    gap .35
// bin 3: {a,g,h}  count 3, accuracy 2/3, confidence (1+.85+.9)/3 = .91667     gap .25
// ECE = (1·.75 + 1·.5 + 3·.35 + 3·.25) / 8 = 3.05 / 8 = .38125; MCE = .75.
// Accuracy 5/8 = .625, mean confidence 5.55/8 = .69375; with one bin ECE = |.625 - .69375| = .06875.
const probabilities = new Float32Array([
  1, 0, 0, 0,
  0.75, 0.25, 0, 0,
  0.25, 0.25, 0.25, 0.25,
  0.5, 0.3, 0.1, 0.1,
  0.1, 0.6, 0.2, 0.1,
  0.2, 0.1, 0.7, 0,
  0.05, 0.05, 0.05, 0.85,
  0.9, 0.1, 0, 0,
]);
const labels = new Int32Array([0, 1, 0, 0, 1, 3, 3, 1]);

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);

describe('expected calibration error', () => {
  before(async () => {
    await initBackend('torch');
  });

  it('matches the hand-computed example (4 bins)', () => {
    const c = calibrationOf(probabilities, labels, 4, 4);
    assert.deepEqual(c.bins.map((b) => b.count), [1, 1, 3, 3]);
    assert.deepEqual(c.bins.map((b) => [b.lower, b.upper]), [[0, 0.25], [0.25, 0.5], [0.5, 0.75], [0.75, 1]]);
    [1, 1, 1 / 3, 2 / 3].forEach((a, m) => close(c.bins[m].accuracy, a, `accuracy of bin ${m}`));
    [0.25, 0.5, 2.05 / 3, 2.75 / 3].forEach((conf, m) => close(c.bins[m].confidence, conf, `confidence of bin ${m}`));
    close(c.ece, 0.38125, 'ECE');
    close(c.mce, 0.75, 'MCE');
    close(c.accuracy, 0.625, 'accuracy');
    close(c.confidence, 0.69375, 'confidence');
    assert.equal(c.count, 8);
  });

  it('one bin: |accuracy - mean confidence|; empty bins are null and do not count', () => {
    close(calibrationOf(probabilities, labels, 4, 1).ece, 0.06875, 'ECE with 1 bin');
    // 8 bins of width .125: c (.25) lands in (.125, .25] = bin 1, d (.5) in bin 3; bins 0, 2 and 4 (.5, .625] hold e (.6).
    const eight = calibrationOf(probabilities, labels, 4, 8);
    assert.deepEqual(eight.bins.map((b) => b.count), [0, 1, 0, 1, 1, 2, 1, 2]);
    assert.equal(eight.bins[0].accuracy, null);
    assert.equal(eight.bins[0].confidence, null);
    // bins: 1 {c} gap .75; 3 {d} gap .5; 4 {e} gap .4; 5 {b .75, f .7} acc 0 gap .725; 6 {g .85} gap .15; 7 {a 1, h .9} acc .5 gap .45
    close(eight.ece, (0.75 + 0.5 + 0.4 + 2 * 0.725 + 0.15 + 2 * 0.45) / 8, 'ECE with 8 bins');
    close(eight.mce, 0.75, 'MCE with 8 bins');
  });

  it('a perfectly calibrated toy is 0; no examples give NaN', () => {
    // Two examples at confidence .5 (2 classes), one right, one wrong: accuracy .5 = confidence .5 in bin (.4, .6].
    const c = calibrationOf(new Float32Array([0.5, 0.5, 0.5, 0.5]), new Int32Array([0, 1]), 2, 5);
    close(c.ece, 0, 'ECE');
    const none = calibrationOf(new Float32Array(0), new Int32Array(0), 3);
    assert.ok(Number.isNaN(none.ece) && Number.isNaN(none.mce));
    assert.equal(none.bins.length, 15);
    assert.ok(none.bins.every((b) => b.count === 0));
  });

  it('agrees with a per-example reference on random predictions', () => {
    const rng = streamRng(7, 'ece');
    const n = 3000;
    const classes = 10;
    const p = new Float32Array(n * classes);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let k = 0; k < classes; k++) total += (p[i * classes + k] = rng() ** 3);
      for (let k = 0; k < classes; k++) p[i * classes + k] /= total;
      y[i] = Math.floor(rng() * classes);
    }
    const bins = 15;
    const count = new Array<number>(bins).fill(0);
    const conf = new Array<number>(bins).fill(0);
    const right = new Array<number>(bins).fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (p[i * classes + k] > p[i * classes + best]) best = k;
      const c = p[i * classes + best];
      const m = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
      count[m]++;
      conf[m] += c;
      right[m] += best === y[i] ? 1 : 0;
    }
    const ece = count.reduce((sum, k, m) => sum + (k === 0 ? 0 : (k / n) * Math.abs(right[m] / k - conf[m] / k)), 0);
    const c = calibrationOf(p, y, classes, bins);
    assert.deepEqual(c.bins.map((b) => b.count), count);
    assert.ok(Math.abs(c.ece - ece) < 1e-5, `${c.ece} vs ${ece}`);
  });

  it('refuses a bad bin count or mismatched shapes, saying what it got', () => {
    for (const bins of [0, 1.5, 1001]) {
      assert.throws(() => checkBins(bins), (e: Error) => e.message.includes('calibration bins') && e.message.includes(`bins=${bins}`));
    }
    assert.throws(() => calibrationOf(new Float32Array(5), new Int32Array(2), 3), /one row of numClasses probabilities per label/);
  });
});
