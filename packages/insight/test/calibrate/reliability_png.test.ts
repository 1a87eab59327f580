// The reliability diagram: a PNG of the layout's size; the bars, the gap shading, empty bins and the diagonal where
// the layout puts them (pixel colours read back), the ECE in the title, and the report's reliability.png.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { initBackend } from '../../src/backend';
import type { Calibration } from '../../src/calibrate/ece';
import { reliabilityLayout, reliabilityPng, reliabilitySvg, reliabilityTitle } from '../../src/calibrate/reliability_png';

// 4 bins: (0, .25] empty; (.25, .5] accuracy .5 = confidence (no gap); (.5, .75] over-confident (accuracy .25,
// confidence .7: gap above the bar); (.75, 1] under-confident (accuracy 1, confidence .8: gap inside the bar).
const calibration: Calibration = {
  ece: 0.1234, mce: 0.45, count: 100, accuracy: 0.6, confidence: 0.7,
  bins: [
    { lower: 0, upper: 0.25, count: 0, accuracy: null, confidence: null },
    { lower: 0.25, upper: 0.5, count: 20, accuracy: 0.5, confidence: 0.5 },
    { lower: 0.5, upper: 0.75, count: 40, accuracy: 0.25, confidence: 0.7 },
    { lower: 0.75, upper: 1, count: 40, accuracy: 1, confidence: 0.8 },
  ],
};
const split = 'validation (last 100 images)';

describe('reliability diagram PNG', () => {
  before(async () => {
    await initBackend('torch');
  });

  it('is a PNG of the layout\'s size with the ECE and MCE in its title', async () => {
    const png = await reliabilityPng(calibration, split);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    const layout = reliabilityLayout(reliabilityTitle(split, calibration));
    assert.deepEqual({ width: meta.width, height: meta.height }, { width: layout.width, height: layout.height });
    assert.equal(layout.plotSize, 360);
    assert.deepEqual(reliabilityTitle(split, calibration),
      ['Reliability diagram', split, 'ECE 12.34% · MCE 45.00% · accuracy 60.00% · 4 bins · 100 images']);
    const svg = reliabilitySvg(calibration, split);
    for (const count of ['>0<', '>20<', '>40<']) assert.ok(svg.includes(count), `count ${count} written`);
  });

  it('draws bars to the accuracy, the gap to the confidence, nothing for an empty bin, and the diagonal', async () => {
    const { data, info } = await sharp(await reliabilityPng(calibration, split)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { plotLeft, plotTop, plotSize } = reliabilityLayout(reliabilityTitle(split, calibration));
    /** RGB at (confidence, accuracy) in plot units. */
    const at = (c: number, a: number) => {
      const x = Math.round(plotLeft + c * plotSize);
      const y = Math.round(plotTop + (1 - a) * plotSize);
      const i = (y * info.width + x) * 3;
      return [data[i], data[i + 1], data[i + 2]];
    };
    const near = (rgb: number[], expected: number[], what: string) =>
      assert.ok(rgb.every((v, k) => Math.abs(v - expected[k]) <= 12), `${what}: ${rgb} vs ${expected}`);
    const bar = [31, 78, 140];
    near(at(0.375, 0.3), bar, 'bin 2 bar below its accuracy .5');
    near(at(0.375, 0.1), bar, 'bin 2 bar near the bottom');
    near(at(0.375, 0.6), [255, 255, 255], 'above bin 2 (no gap: accuracy = confidence)');
    near(at(0.625, 0.15), bar, 'bin 3 bar below .25');
    // Over-confident: between .25 and .7 the gap colour (230,120,120 at 75% over white).
    const gapOnWhite = [230, 120, 120].map((v) => Math.round(0.75 * v + 0.25 * 255));
    near(at(0.6, 0.45), gapOnWhite, 'bin 3 gap');
    near(at(0.6, 0.85), [255, 255, 255], 'above bin 3\'s confidence');
    // Under-confident: the gap lies inside the bar, between .8 and 1 (over the bar colour).
    const gapOnBar = [230, 120, 120].map((v, k) => Math.round(0.75 * v + 0.25 * bar[k]));
    near(at(0.8, 0.9), gapOnBar, 'bin 4 gap inside its bar');
    near(at(0.8, 0.5), bar, 'bin 4 bar below its confidence');
    // The empty first bin: white, but for the dashed diagonal through (c, c).
    near(at(0.125, 0.5), [255, 255, 255], 'empty bin 1');
    const diagonal = [0.05, 0.1, 0.15, 0.2].map((v) => at(v, v)[0]);
    assert.ok(Math.min(...diagonal) < 160, `the diagonal is drawn: ${diagonal}`);
  });

  it('draws every histogram bar with a positive width, however many bins (--bins up to 1000)', () => {
    const bins = Array.from({ length: 1000 }, (_, m) => ({ lower: m / 1000, upper: (m + 1) / 1000, count: 1, accuracy: 1, confidence: (m + 0.5) / 1000 }));
    const svg = reliabilitySvg({ ...calibration, count: 1000, bins }, split);
    const histogram = [...svg.matchAll(/<rect [^>]*width="([^"]+)"[^>]*fill="rgb\(150,150,150\)"/g)].map((m) => Number(m[1]));
    assert.equal(histogram.length, 1000);
    assert.ok(histogram.every((w) => w > 0), `smallest width ${Math.min(...histogram)}`);
  });
});
