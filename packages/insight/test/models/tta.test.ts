// Test-time augmentation views and the --tta parser: the views of a hand-made image are exactly the flips and the
// reflect-padded diagonal shifts, in the documented order and layout; the parser accepts its syntax and refuses
// anything else with the house message; shifts are checked against the input size.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { ttaViewCount, ttaViews } from '../../src/models/tta';
import { checkTta, formatTta, maxTtaShift, NO_TTA, parseTta } from '../../src/models/tta_settings';

before(async () => {
  await initBackend();
});

/** PyTorch's 'reflect' index: -1 → 1, n → n - 2. */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/** The view of image `img` [H][W][C] translated by (dy, dx) (content moves down/right for positive) and maybe mirrored, by index arithmetic. */
function viewByHand(img: number[][][], dy: number, dx: number, flip: boolean): number[][][] {
  const h = img.length;
  const w = img[0].length;
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => {
    const jj = flip ? w - 1 - j : j;
    return img[reflect(i - dy, h)][reflect(jj - dx, w)];
  }));
}

describe('ttaViews', () => {
  // A 4x4 one-channel image 0..15 (row-major), and a second image 100..115.
  const first = Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => [4 * i + j]));
  const second = first.map((row) => row.map(([v]) => [v + 100]));

  it('flip + shift 1: six views, view-major, exactly mirror and reflect-padded diagonal shifts', () => {
    const views = tf.tidy(() => ttaViews(tf.tensor4d([first, second]), { flip: true, shift: 1 }).arraySync());
    assert.equal(views.length, 12); // 6 views x 2 images
    // Written out for the first image: original, mirror, (+1, +1), its mirror, (-1, -1), its mirror.
    const expected = [
      [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]],
      [[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8], [15, 14, 13, 12]],
      [[5, 4, 5, 6], [1, 0, 1, 2], [5, 4, 5, 6], [9, 8, 9, 10]],
      [[6, 5, 4, 5], [2, 1, 0, 1], [6, 5, 4, 5], [10, 9, 8, 9]],
      [[5, 6, 7, 6], [9, 10, 11, 10], [13, 14, 15, 14], [9, 10, 11, 10]],
      [[6, 7, 6, 5], [10, 11, 10, 9], [14, 15, 14, 13], [10, 11, 10, 9]],
    ];
    expected.forEach((view, k) => {
      assert.deepEqual(views[2 * k].map((row) => row.map(([v]) => v)), view, `view ${k} of image 0`);
      assert.deepEqual(views[2 * k + 1].map((row) => row.map(([v]) => v)), view.map((row) => row.map((v) => v + 100)), `view ${k} of image 1`);
    });
  });

  it('three channels and shift 2 match the index arithmetic, for each setting', () => {
    const img = (seed: number) => Array.from({ length: 8 }, (_, i) => Array.from({ length: 8 }, (_, j) => [0, 1, 2].map((c) => seed * 1000 + 100 * c + 8 * i + j)));
    const images = [img(1), img(2), img(3)];
    const cases: [{ flip: boolean; shift: number }, [number, number, boolean][]][] = [
      [{ flip: true, shift: 0 }, [[0, 0, false], [0, 0, true]]],
      [{ flip: false, shift: 2 }, [[0, 0, false], [2, 2, false], [-2, -2, false]]],
      [{ flip: true, shift: 2 }, [[0, 0, false], [0, 0, true], [2, 2, false], [2, 2, true], [-2, -2, false], [-2, -2, true]]],
    ];
    for (const [tta, order] of cases) {
      const out = tf.tidy(() => ttaViews(tf.tensor4d(images), tta));
      assert.deepEqual(out.shape, [order.length * 3, 8, 8, 3]);
      assert.equal(ttaViewCount(tta), order.length);
      const values = out.arraySync();
      out.dispose();
      order.forEach(([dy, dx, flip], k) => images.forEach((image, n) => {
        assert.deepEqual(values[k * 3 + n], viewByHand(image, dy, dx, flip), `${formatTta(tta)} view ${k} image ${n}`);
      }));
    }
  });

  it('no augmentation returns the batch itself (no op, no copy)', () => {
    const x = tf.tensor4d([first]);
    assert.equal(ttaViews(x, NO_TTA), x);
    assert.equal(ttaViewCount(NO_TTA), 1);
    x.dispose();
  });
});

describe('parseTta and formatTta', () => {
  it('reads none, flip, shift[=N], flip-shift[=N] (N default 1), ignoring case and spaces', () => {
    assert.deepEqual(parseTta('none'), { flip: false, shift: 0 });
    assert.deepEqual(parseTta('flip'), { flip: true, shift: 0 });
    assert.deepEqual(parseTta('shift'), { flip: false, shift: 1 });
    assert.deepEqual(parseTta('shift=3'), { flip: false, shift: 3 });
    assert.deepEqual(parseTta('flip-shift'), { flip: true, shift: 1 });
    assert.deepEqual(parseTta(' Flip-Shift = 2 '), { flip: true, shift: 2 });
    for (const text of ['none', 'flip', 'shift=1', 'shift=4', 'flip-shift=1', 'flip-shift=2']) assert.equal(formatTta(parseTta(text)), text);
  });

  it('refuses anything else with the rule, what was given and the fix', () => {
    for (const text of ['mirror', 'flip=2', 'none=1', 'shift=-1', 'shift=1.5', 'flip,shift', '']) {
      assert.throws(() => parseTta(text), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
        && e.message === `tta must be one of: none | flip | shift[=N] | flip-shift[=N] (N: pixels of the translations, an integer >= 1). Received: tta=${JSON.stringify(text)}. ` +
          'Pass e.g. --tta flip, --tta flip-shift (one pixel) or --tta flip-shift=2; --tta none turns test-time augmentation off.', text);
    }
    assert.throws(() => parseTta('flip-shift=0'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
      && e.message.startsWith('The shift of --tta shift=N / flip-shift=N must be an integer >= 1. Received: tta="flip-shift=0".'));
  });
});

describe('checkTta', () => {
  it('allows shifts up to a quarter of the smaller side', () => {
    assert.equal(maxTtaShift(32, 32), 8);
    assert.equal(maxTtaShift(8, 12), 2);
    assert.deepEqual(checkTta({ flip: true, shift: 8 }, [32, 32, 3]), { flip: true, shift: 8 });
    assert.deepEqual(checkTta({ flip: false, shift: 0 }, [3, 3, 3]), { flip: false, shift: 0 });
  });

  it('refuses a shift too large for the input, or malformed settings, naming their source', () => {
    assert.throws(() => checkTta({ flip: true, shift: 3 }, [8, 8, 3]), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
      && e.message === 'Test-time augmentation must be { flip: true|false, shift: an integer 0..2 } for a 8x8 input (shifts up to a quarter of the image side). ' +
        'Received: source="--tta", tta={"flip":true,"shift":3}. Pass --tta with a shift of at most 2, e.g. --tta flip-shift=1.');
    for (const bad of [{ flip: 'yes', shift: 1 }, { flip: true, shift: 1.5 }, { flip: true, shift: -1 }, { flip: true }, null, 'flip']) {
      assert.throws(() => checkTta(bad, [32, 32, 3], 'INSIGHT_E_MODEL', 'runs/x/model inference.tta'), (e: unknown) => e instanceof InsightError
        && e.code === 'INSIGHT_E_MODEL' && e.message.includes('Received: source="runs/x/model inference.tta"') && e.message.endsWith('(e.g. --tta none).'), JSON.stringify(bad));
    }
    assert.throws(() => checkTta({ flip: false, shift: 1 }, [3, 3, 3]), /no shift fits: use --tta flip/);
  });
});
