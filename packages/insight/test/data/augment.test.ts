// Augmentation: hand-made images for flip, crop-with-padding and cutout, and the fused kernel checked
// exhaustively against a slow, step-by-step reference (pad → crop → flip → normalize → cutout).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawAugmentParams, normalizationTable, normalizeImages, renderImage, type Normalization } from '../../src/data';
import { checkAugmentConfig } from '../../src/data/augment';
import { streamRng } from '../../src/data/random';

const SCALE = normalizationTable({ kind: 'scale' });

/** A 3-row, 4-column image whose pixel (y, x) is (10y + x, 100 + 10y + x, 200 + x). */
function hand(): Uint8Array {
  const img = new Uint8Array(3 * 4 * 3);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) img.set([10 * y + x, 100 + 10 * y + x, 200 + x], (y * 4 + x) * 3);
  return img;
}

/** Renders `hand()` with the given parameters and returns it as bytes again (scale table, so v*255 is exact). */
function render(padding: number, cropY: number, cropX: number, flip: boolean, cutY = -1, cutX = -1, size = 0): number[][] {
  const out = new Float32Array(36);
  renderImage(hand(), 0, out, 0, 3, 4, SCALE, padding, cropY, cropX, flip, cutY, cutX, size);
  const bytes = Array.from(out, (v) => Math.round(v * 255));
  return [0, 1, 2].map((y) => bytes.slice(y * 12, y * 12 + 12));
}

/** The obvious definition, one step at a time, on a height×width uint8 image. */
function reference(src: Uint8Array, h: number, w: number, norm: Normalization, pad: number, cropY: number, cropX: number,
  flip: boolean, cutY: number, cutX: number, size: number): Float32Array {
  const ph = h + 2 * pad, pw = w + 2 * pad;
  const padded = new Uint8Array(ph * pw * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) padded[((y + pad) * pw + x + pad) * 3 + c] = src[(y * w + x) * 3 + c];
  const crop = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) crop[(y * w + x) * 3 + c] = padded[((y + cropY) * pw + x + cropX) * 3 + c];
  const flipped = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) flipped[(y * w + x) * 3 + c] = crop[(y * w + (flip ? w - 1 - x : x)) * 3 + c];
  const out = normalizeImages(flipped, norm);
  if (cutY >= 0) {
    for (let y = cutY - (size >> 1); y < cutY - (size >> 1) + size; y++) {
      for (let x = cutX - (size >> 1); x < cutX - (size >> 1) + size; x++) {
        if (y >= 0 && y < h && x >= 0 && x < w) out.fill(0, (y * w + x) * 3, (y * w + x) * 3 + 3);
      }
    }
  }
  return out;
}

describe('augmentation on a hand-made image', () => {
  it('identity: padding with the centre crop changes nothing', () => {
    assert.deepEqual(render(2, 2, 2, false), render(0, 0, 0, false));
    assert.deepEqual(render(0, 0, 0, false)[1], [10, 110, 200, 11, 111, 201, 12, 112, 202, 13, 113, 203]);
  });

  it('horizontal flip mirrors every row exactly', () => {
    const plain = render(0, 0, 0, false);
    const flipped = render(0, 0, 0, true);
    for (let y = 0; y < 3; y++) {
      const mirrored = [3, 2, 1, 0].flatMap((x) => plain[y].slice(x * 3, x * 3 + 3));
      assert.deepEqual(flipped[y], mirrored);
    }
  });

  it('crop from the padded image shifts the content and fills with zeros', () => {
    // Window at (0, 0) of the 1-pixel-padded image: content moves down and right by one.
    assert.deepEqual(render(1, 0, 0, false), [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 100, 200, 1, 101, 201, 2, 102, 202],
      [0, 0, 0, 10, 110, 200, 11, 111, 201, 12, 112, 202],
    ]);
    // Window at (2, 2): content moves up and left by one.
    assert.deepEqual(render(1, 2, 2, false), [
      [11, 111, 201, 12, 112, 202, 13, 113, 203, 0, 0, 0],
      [21, 121, 201, 22, 122, 202, 23, 123, 203, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]);
  });

  it('crop then flip', () => {
    assert.deepEqual(render(1, 1, 0, true)[0], [2, 102, 202, 1, 101, 201, 0, 100, 200, 0, 0, 0]);
  });

  it('cutout zeroes a square centred on the chosen pixel, clipped at the border', () => {
    const cut = render(0, 0, 0, false, 1, 2, 2);
    const plain = render(0, 0, 0, false);
    assert.deepEqual(cut[0], [...plain[0].slice(0, 3), 0, 0, 0, 0, 0, 0, ...plain[0].slice(9)]);
    assert.deepEqual(cut[1], [...plain[1].slice(0, 3), 0, 0, 0, 0, 0, 0, ...plain[1].slice(9)]);
    assert.deepEqual(cut[2], plain[2]);
    const corner = render(0, 0, 0, false, 0, 0, 3);
    assert.deepEqual(corner[0].slice(0, 6), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(corner[0].slice(6), plain[0].slice(6));
  });
});

describe('the fused kernel equals the step-by-step reference', () => {
  const norms: Normalization[] = [{ kind: 'scale' }, { kind: 'meanstd', mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] }];
  for (const norm of norms) {
    it(`every crop, flip and cutout of a random 5x6 image (${norm.kind})`, () => {
      const h = 5, w = 6;
      const rng = streamRng(3, 'test');
      const src = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng() * 256));
      const lut = normalizationTable(norm);
      let cases = 0;
      for (const pad of [0, 1, 3]) {
        for (let cy = 0; cy <= 2 * pad; cy++) for (let cx = 0; cx <= 2 * pad; cx++) for (const flip of [false, true]) {
          for (const [cutY, cutX, size] of [[-1, -1, 0], [0, 0, 1], [2, 3, 3], [4, 5, 4], [1, 0, 6]]) {
            const out = new Float32Array(h * w * 3 + 6).fill(NaN);
            renderImage(src, 0, out, 3, h, w, lut, pad, cy, cx, flip, cutY, cutX, size);
            const expected = reference(src, h, w, norm, pad, cy, cx, flip, cutY, cutX, size);
            assert.deepEqual(out.subarray(3, 3 + h * w * 3), expected, `pad ${pad} crop ${cy},${cx} flip ${flip} cut ${cutY},${cutX},${size}`);
            assert.ok(Number.isNaN(out[2]) && Number.isNaN(out[3 + h * w * 3]), 'writes stay inside the image');
            cases++;
          }
        }
      }
      assert.equal(cases, (1 + 9 + 49) * 2 * 5);
    });
  }
});

describe('drawAugmentParams', () => {
  it('draws in range, reproducibly, and nothing for disabled augmentations', () => {
    const cfg = { randomCrop: { padding: 4 }, horizontalFlip: true, cutout: { size: 16 } };
    const a = drawAugmentParams(streamRng(1, 'x'), 1000, 32, 30, cfg);
    assert.deepEqual(a, drawAugmentParams(streamRng(1, 'x'), 1000, 32, 30, cfg));
    const column = (k: number) => Array.from({ length: 1000 }, (_, i) => a[i * 5 + k]);
    assert.deepEqual([Math.min(...column(0)), Math.max(...column(0))], [0, 8]);
    assert.deepEqual([Math.min(...column(1)), Math.max(...column(1))], [0, 8]);
    const flips = column(2).reduce((s, f) => s + f, 0);
    assert.ok(flips > 400 && flips < 600, `about half flipped, got ${flips}`);
    assert.deepEqual([Math.min(...column(3)), Math.max(...column(3))], [0, 31]);
    assert.deepEqual([Math.min(...column(4)), Math.max(...column(4))], [0, 29]);
    const none = drawAugmentParams(streamRng(1, 'x'), 3, 32, 32, {});
    assert.deepEqual(Array.from(none), [0, 0, 0, -1, -1, 0, 0, 0, -1, -1, 0, 0, 0, -1, -1]);
  });

  it('configs are checked', () => {
    assert.throws(() => checkAugmentConfig({ randomCrop: { padding: -1 } }, 32, 32),
      /augment\.randomCrop\.padding must be an integer in \[0, 32\]\. Received: augment\.randomCrop\.padding=-1\./);
    assert.throws(() => checkAugmentConfig({ cutout: { size: 0 } }, 32, 32), /augment\.cutout\.size must be an integer in \[1, 32\]/);
    assert.throws(() => checkAugmentConfig({ horizontalFlip: 'yes' as never }, 32, 32), /augment\.horizontalFlip must be a boolean/);
  });
});
