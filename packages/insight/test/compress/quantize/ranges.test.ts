// Calibration's reductions on hand-made activations with one huge value, against the plain numpy references of
// fixtures/make_calibration_ranges.py: min-max keeps the outlier, percentile and entropy clip it (exact values).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { RangeCollector, type RangeOptions } from '../../../src/compress/quantize/range_collector';
import { binCounts, emptyHistogram } from '../../../src/compress/quantize/histogram';

interface Case {
  name: string;
  values: [number, number][];
  count: number;
  expected: Record<string, { min: number; max: number }>;
}
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'calibration_ranges.json'), 'utf8')) as { cases: Case[] };

before(async () => {
  await initBackend();
});

/** The case's values, in order, as a [count] float32 array. */
function valuesOf(c: Case): Float32Array {
  const out = new Float32Array(c.count);
  let at = 0;
  for (const [v, n] of c.values) out.fill(v, at, (at += n));
  return out;
}

/** Two batches of the case's values (the second one starting mid-way), reduced by one collector. */
async function rangeOf(c: Case, options: RangeOptions) {
  const values = valuesOf(c);
  const half = Math.floor(values.length / 2) + 7;
  const batches = [values.subarray(0, half), values.subarray(half)];
  const collector = new RangeCollector(1, options);
  const passes = collector.needsHistograms ? [collector.observe, collector.bin] : [collector.observe];
  for (const pass of passes) {
    for (const b of batches) {
      const t = tf.tensor1d(b);
      await pass.call(collector, [t]);
      t.dispose();
    }
  }
  return collector.ranges()[0];
}

describe('calibration ranges of a hand-made activation with one huge value', () => {
  for (const c of FIXTURE.cases) {
    it(`${c.name}: min-max keeps 1000, percentile 99.99 and entropy clip it, as the numpy reference`, async () => {
      const before = tf.memory().numTensors;
      assert.deepEqual(await rangeOf(c, { method: 'minmax' }), c.expected.minmax);
      assert.deepEqual(await rangeOf(c, { method: 'percentile' }), c.expected.percentile);
      assert.deepEqual(await rangeOf(c, { method: 'entropy' }), c.expected.entropy);
      if (c.expected.percentileSymmetric) assert.deepEqual(await rangeOf(c, { method: 'percentile', symmetric: true }), c.expected.percentileSymmetric);
      assert.ok(c.expected.percentile.max < 10 && c.expected.entropy.max < 200, 'both clip the outlier');
      assert.equal(tf.memory().numTensors, before);
    });
  }

  it('bins on the backend as np.histogram does: values in their bins, the maximum in the last', async () => {
    const h = emptyHistogram(0, 8, 8);
    const counts = tf.tidy(() => binCounts(tf.tensor1d([0, 0.5, 1, 2.5, -3, 7.99, 8, 8]), h, true));
    assert.deepEqual([...await counts.data()], [2, 1, 1, 1, 0, 0, 0, 3]);
    counts.dispose();
  });
});
