// Explanation pictures: the colour tables (viridis as published, coolwarm against Moreland's own table), per-image
// normalization (min–max; the signed percentile clip), the blend, and the PNGs — decoded with sharp and checked for
// their size and for the colours at known spots (input pixels are 8x8 blocks at 32x32). No tensor may leak.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { heatTiles } from '../../src/explain/render/blend';
import { COOLWARM, divergingColour, normalizeMaps, VIRIDIS } from '../../src/explain/render/colormap';
import { formatValue } from '../../src/explain/render/drawing';
import { VIRIDIS_DATA } from '../../src/explain/render/viridis_data';
import { explanationGridPng, gridCellOrigin, gridLayout } from '../../src/explain/render/grid';
import { neighbourStripsPng, stripLayout, stripSlotOrigin } from '../../src/explain/render/neighbour_strip';
import { overlayLayout, overlayPng } from '../../src/explain/render/overlay';

const H = 32;
const W = 32;

/** A uniform image of one colour. */
const solid = (rgb: number[], h = H, w = W) => new Uint8Array(h * w * 3).map((_, i) => rgb[i % 3]);
/** Left half `left`, right half `right`. */
const halves = (left: number, right: number) => new Float32Array(H * W).map((_, i) => (i % W < W / 2 ? left : right));
const entry = (lut: Uint8Array, i: number) => Array.from(lut.subarray(3 * i, 3 * i + 3));
const blendOf = (image: number[], heat: number[], alpha: number) => image.map((v, c) => v + alpha * (heat[c] - v));

async function decode(png: Buffer): Promise<{ width: number; height: number; at: (x: number, y: number) => number[] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, at: (x, y) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)) };
}

function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance), `${what}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected.map((v) => Math.round(v)))}`);
}

/** Relative luminance of an sRGB byte triple (linear light, Rec. 709 weights). */
function luminance([r, g, b]: number[]): number {
  const lin = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

describe('explanation pictures', () => {
  let tensorsBefore = 0;
  before(async () => {
    await initBackend();
    tensorsBefore = tf.memory().numTensors;
  });

  describe('colour maps', () => {
    it('viridis: the published end colours (#440154, #fde725, #21918c mid); luminance strictly rising', () => {
      assert.equal(VIRIDIS.lut.length, 768);
      assert.deepEqual(entry(VIRIDIS.lut, 0), [68, 1, 84]);
      assert.deepEqual(entry(VIRIDIS.lut, 128), [33, 145, 140]);
      assert.deepEqual(entry(VIRIDIS.lut, 255), [253, 231, 37]);
      const published = (i: number) => VIRIDIS_DATA.slice(3 * i, 3 * i + 3).map((v) => 255 * v);
      for (let i = 1; i < 256; i++) assert.ok(luminance(published(i)) > luminance(published(i - 1)), `published table rises at ${i}`);
      // Rounding to bytes leaves 4 dips of less than half a byte step (entries 95, 113, 130, 146); 8 entries apart it rises.
      for (let i = 1; i < 256; i++) {
        const step = luminance(entry(VIRIDIS.lut, i)) - luminance(entry(VIRIDIS.lut, i - 1));
        assert.ok(step > -5e-4, `entry ${i}: ${step}`);
        if (i >= 8) assert.ok(luminance(entry(VIRIDIS.lut, i)) > luminance(entry(VIRIDIS.lut, i - 8)), `entry ${i} vs ${i - 8}`);
      }
    });

    it('coolwarm: computed from Moreland\'s definition, equal to his published CoolWarmFloat33 table within 0.002', () => {
      // t → sRGB in [0, 1], rows 0, 8, 16, 24, 32 of CoolWarmFloat33.csv (as matplotlib ships it in _cm.py).
      const published: [number, number[]][] = [
        [0, [0.2298057, 0.298717966, 0.753683153]], [0.25, [0.552953156, 0.688929332, 0.995375608]],
        [0.5, [0.865395197, 0.86541021, 0.865395561]], [0.75, [0.958003065, 0.602842431, 0.481775914]],
        [1, [0.705673158, 0.01555616, 0.150232812]],
      ];
      for (const [t, rgb] of published) {
        const ours = divergingColour([59 / 255, 76 / 255, 192 / 255], [180 / 255, 4 / 255, 38 / 255], t);
        assertNear(ours, rgb, 0.002, `t=${t}`);
      }
      assert.deepEqual([entry(COOLWARM.lut, 0), entry(COOLWARM.lut, 64), entry(COOLWARM.lut, 255)], [[59, 76, 192], [141, 176, 254], [180, 4, 38]]);
      // Diverging: lightest in the middle, darker towards both ends.
      const mid = luminance(entry(COOLWARM.lut, 128));
      for (const i of [0, 32, 96, 160, 224, 255]) assert.ok(luminance(entry(COOLWARM.lut, i)) < mid, `entry ${i} darker than the middle`);
    });
  });

  describe('normalization per image', () => {
    it('maps >= 0: min–max to [0, 1]; a constant map is 0', async () => {
      const maps = tf.tensor3d([[[2, 4], [6, 10]], [[3, 3], [3, 3]]]);
      const { unit, ranges } = await normalizeMaps(maps, false);
      assert.deepEqual(Array.from(await unit.data()), [0, 0.25, 0.5, 1, 0, 0, 0, 0]);
      assert.deepEqual(ranges, [{ low: 2, high: 10 }, { low: 3, high: 3 }]);
      tf.dispose([maps, unit]);
    });

    it('signed maps: symmetric clip at the 99th percentile of |v| (nearest rank), 0 at the middle', async () => {
      // 100 values ±1..±100: the 99th percentile of |v| by nearest rank is the 99th smallest, 99.
      const values = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1 : -1) * (i + 1));
      const maps = tf.tensor3d([...values, ...new Array(100).fill(0)], [2, 10, 10]);
      const { unit, ranges } = await normalizeMaps(maps, true);
      const u = await unit.data();
      assert.deepEqual(ranges, [{ low: -99, high: 99 }, { low: -0, high: 0 }]);
      assert.equal(u[99], 0); // -100 → clipped to -1 → 0
      assert.ok(Math.abs(u[0] - (0.5 + 1 / 198)) < 1e-6, `+1 → ${u[0]}`);
      assert.ok(Math.abs(u[49] - (0.5 - 50 / 198)) < 1e-6, `-50 → ${u[49]}`);
      assert.equal(u[98], 0.5 + 0.5); // +99 → 1
      assert.ok(Array.from(u.subarray(100)).every((v) => v === 0.5), 'an all-zero map sits at the middle');
      tf.dispose([maps, unit]);
    });

    it('signed maps whose percentile is 0 (sparse attributions) fall back to max |v|', async () => {
      const maps = tf.tensor3d([[[0, 0, 0, 0], [0, 0, 0, -4]]]);
      const { unit, ranges } = await normalizeMaps(maps, true);
      assert.deepEqual(ranges, [{ low: -4, high: 4 }]);
      assert.deepEqual(Array.from(await unit.data()), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0]);
      tf.dispose([maps, unit]);
    });
  });

  it('heatTiles blends on the backend: constant alpha for >= 0 maps, alpha·|v|/clip for signed maps', async () => {
    const grey = [100, 100, 100];
    const [sequential] = await heatTiles([solid(grey)], [halves(0, 1)], H, W, { signed: false, alpha: 0.5 });
    assertNear(Array.from(sequential.pixels.subarray(0, 3)), blendOf(grey, entry(VIRIDIS.lut, 0), 0.5), 0.5, 'low half');
    assertNear(Array.from(sequential.pixels.subarray(3 * (W - 1), 3 * W)), blendOf(grey, entry(VIRIDIS.lut, 255), 0.5), 0.5, 'high half');
    const [signed] = await heatTiles([solid(grey)], [halves(0, -2)], H, W, { signed: true, alpha: 0.8 });
    assert.deepEqual(Array.from(signed.pixels.subarray(0, 3)), grey, 'zero attribution leaves the image as it is');
    assertNear(Array.from(signed.pixels.subarray(3 * (W - 1), 3 * W)), blendOf(grey, entry(COOLWARM.lut, 0), 0.8), 0.5, 'most negative');
    assert.deepEqual(signed.range, { low: -2, high: 2 });
  });

  it('overlay: a PNG of overlayLayout size; 8x blocks of the blend; colour bar from high (top) to low', async () => {
    const grey = [90, 120, 150];
    const map = halves(0.1, 0.3);
    map[0] = 0.7; // input pixel (0, 0) is the maximum
    const { png, width, height, range } = await overlayPng({
      image: solid(grey), height: H, width: W, map, signed: false, caption: { method: 'gradcam', className: 'cat <&>', probability: 0.934 },
    });
    const layout = overlayLayout(H, W);
    assert.equal(layout.scale, 8);
    assert.deepEqual({ width, height }, { width: layout.width, height: layout.height });
    assert.deepEqual(range, { low: Math.fround(0.1), high: Math.fround(0.7) });
    const picture = await decode(png);
    assert.deepEqual([picture.width, picture.height], [width, height]);
    const { left, top } = layout.image;
    const pixel = (x: number, y: number) => picture.at(left + 8 * x + 4, top + 8 * y + 4);
    assertNear(pixel(0, 0), blendOf(grey, entry(VIRIDIS.lut, 255), 0.5), 1, 'input pixel (0,0) = max');
    assertNear(pixel(3, 5), blendOf(grey, entry(VIRIDIS.lut, 0), 0.5), 1, 'left half = min');
    assertNear(pixel(20, 5), blendOf(grey, entry(VIRIDIS.lut, Math.round((0.2 / 0.6) * 255)), 0.5), 1, 'right half = 1/3');
    // Block edges are sharp (nearest neighbour): the last display pixel of input column 15 and the first of 16 differ.
    assertNear(picture.at(left + 8 * 16 - 1, top + 40), pixel(3, 5), 1, 'end of column 15');
    assertNear(picture.at(left + 8 * 16, top + 40), pixel(20, 5), 1, 'start of column 16');
    const barX = left + layout.image.width + 14 + 7;
    assertNear(picture.at(barX, top + 1), entry(VIRIDIS.lut, 255), 2, 'bar top');
    assertNear(picture.at(barX, top + layout.image.height - 2), entry(VIRIDIS.lut, 0), 2, 'bar bottom');
    assert.deepEqual(picture.at(2, 2), [255, 255, 255], 'white margin');
  });

  it('overlay of a signed map uses coolwarm; bad inputs are house errors naming the sizes', async () => {
    const grey = [128, 128, 128];
    const map = halves(0, 0);
    map[W * 10 + 30] = 5; // one positive pixel at (30, 10)
    const { png } = await overlayPng({ image: solid(grey), height: H, width: W, map, signed: true, alpha: 1, caption: { method: 'ig', className: 'dog', probability: 0.5 } });
    const picture = await decode(png);
    const { left, top } = overlayLayout(H, W).image;
    assert.deepEqual(picture.at(left + 8 * 3 + 4, top + 8 * 3 + 4), grey);
    assertNear(picture.at(left + 8 * 30 + 4, top + 8 * 10 + 4), entry(COOLWARM.lut, 255), 1, 'positive pixel');
    await assert.rejects(overlayPng({ image: solid(grey), height: H, width: W, map: new Float32Array(10), signed: true, caption: { method: 'ig', className: 'x', probability: 0 } }),
      /A heat map must hold height·width values \(one per input pixel\)\. Received: what="overlay", map\.length=10, height=32, width=32\./);
  });

  it('grid: rows x (image + one column per method), per-cell ranges, a legend line per colour map', async () => {
    const colours = [[200, 30, 30], [30, 200, 30]];
    const rows = colours.map((rgb, r) => ({
      label: `image ${r}\ntrue: c${r}`,
      image: solid(rgb),
      cells: [{ map: halves(r, r + 2), signed: false }, { map: halves(-1, 3), signed: true }],
    }));
    const { png, width, height, ranges } = await explanationGridPng(rows, ['gradcam', 'ig'], { height: H, width: W });
    assert.deepEqual({ width, height }, { width: gridLayout(2, 2, 2).width, height: gridLayout(2, 2, 2).height });
    assert.deepEqual(gridLayout(2, 2, 2), { width: 640, height: 28 + 2 * (128 + 16 + 8) + 2 * 26 + 8, tile: 128 });
    assert.deepEqual(ranges, [[{ low: 0, high: 2 }, { low: -3, high: 3 }], [{ low: 1, high: 3 }, { low: -3, high: 3 }]]);
    const picture = await decode(png);
    for (const [r, rgb] of colours.entries()) {
      const image = gridCellOrigin(r, 0);
      assert.deepEqual(picture.at(image.left + 60, image.top + 60), rgb, `row ${r}: the image`);
      const gradcam = gridCellOrigin(r, 1);
      assertNear(picture.at(gradcam.left + 100, gradcam.top + 60), blendOf(rgb, entry(VIRIDIS.lut, 255), 0.5), 1, `row ${r}: gradcam right half`);
      const ig = gridCellOrigin(r, 2);
      // -1 of a ±3 clip: u = 1/3, colour entry 85, weight 0.5·|2u − 1| = 1/6.
      assertNear(picture.at(ig.left + 20, ig.top + 60), blendOf(rgb, entry(COOLWARM.lut, 85), 0.5 / 3), 1, `row ${r}: ig left half`);
    }
    await assert.rejects(explanationGridPng([{ ...rows[0], cells: rows[0].cells.slice(1) }], ['gradcam', 'ig'], { height: H, width: W }),
      /Every grid row needs one cell per column\. Received: row=0, cells=1, columns=2\./);
  });

  it('neighbour strips: query, separator, k neighbours per row, each tile its image', async () => {
    const query = solid([10, 20, 30]);
    const neighbours = [[250, 0, 0], [0, 250, 0], [0, 0, 250]].map((rgb, i) => ({ image: solid(rgb), label: i === 1 ? 'dog' : 'cat', distance: 0.01 * (i + 1) }));
    const { png, width, height } = await neighbourStripsPng([
      { query, caption: 'query: cat 93%', queryLabel: 'cat', neighbours },
      { query: solid([60, 60, 60]), caption: 'query: dog', neighbours: neighbours.slice(0, 2) },
    ], { height: H, width: W });
    assert.deepEqual({ width, height }, stripLayout(2, 3));
    const picture = await decode(png);
    const at = (strip: number, slot: number) => { const o = stripSlotOrigin(strip, slot); return picture.at(o.left + 48, o.top + 48); };
    assert.deepEqual(at(0, 0), [10, 20, 30]);
    assert.deepEqual([at(0, 1), at(0, 2), at(0, 3)], [[250, 0, 0], [0, 250, 0], [0, 0, 250]]);
    assert.deepEqual([at(1, 0), at(1, 1), at(1, 2), at(1, 3)], [[60, 60, 60], [250, 0, 0], [0, 250, 0], [255, 255, 255]]);
  });

  it('legend numbers: 3 significant digits, exponents outside [0.01, 10000)', () => {
    assert.deepEqual([0, 0.5, -0.123456, 1234.5, 0.00123, 123456, -1e-7].map(formatValue), ['0', '0.5', '-0.123', '1230', '1.23e-3', '1.23e+5', '-1.00e-7']);
  });

  it('leaves no tensor behind', () => {
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });
});
