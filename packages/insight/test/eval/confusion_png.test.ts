// The confusion matrix picture: a valid PNG of the expected size, with the counts drawn (sharp renders the SVG),
// and a title that is neither clipped at the picture's edges nor repeats the image count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { confusionImageSize, confusionLayout, confusionPng, confusionSvg, confusionTitle, tidyTitle } from '../../src/eval/confusion_png';

describe('confusion PNG', () => {
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  const matrix = names.map((_, t) => names.map((__, p) => (t === p ? 90 : t + p)));

  it('is a PNG of confusionImageSize(10) pixels', async () => {
    const png = await confusionPng(matrix, names);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual({ width: meta.width, height: meta.height }, confusionImageSize(10, names));
    const layout = confusionLayout(10, names);
    // 10 cells of 44 px plus the label margins ('automobile' is the longest name).
    assert.equal(layout.width, layout.gridLeft + 10 * 44 + 20);
    assert.ok(layout.gridLeft > 80 && layout.gridLeft < 130, `gridLeft ${layout.gridLeft}`);
  });

  it('draws something in the cells: the diagonal is darker than an off-diagonal cell', async () => {
    const { data, info } = await sharp(await confusionPng(matrix, names)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => data[(y * info.width + x) * 3];
    // Cell (row 0, col 0) corner vs cell (row 0, col 5) corner (gridLeft + 44·col + 2, gridTop + 2).
    const { gridLeft, gridTop } = confusionLayout(10, names);
    assert.ok(pixel(gridLeft + 2, gridTop + 2) < 100, `diagonal red ${pixel(gridLeft + 2, gridTop + 2)}`);
    assert.ok(pixel(gridLeft + 2 + 5 * 44, gridTop + 2) > 200, `off-diagonal red ${pixel(gridLeft + 2 + 5 * 44, gridTop + 2)}`);
  });

  it('the SVG has every count and class name, XML-escaped', () => {
    const svg = confusionSvg([[1, 2], [3, 4]], ['a<b', 'c&d'], 'T');
    for (const text of ['>1<', '>2<', '>3<', '>4<', 'a&lt;b', 'c&amp;d']) assert.ok(svg.includes(text), text);
  });

  /** Columns holding dark (text) pixels in rows [top, bottom) of the PNG: the ink's left and right ends and its rows. */
  async function inkOf(png: Buffer, top: number, bottom: number): Promise<{ width: number; left: number; right: number; rows: number }> {
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let left = Infinity;
    let right = -1;
    const rows = new Set<number>();
    for (let y = top; y < Math.min(bottom, info.height); y++) {
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * 3;
        if (data[i] + data[i + 1] + data[i + 2] < 3 * 160) {
          left = Math.min(left, x);
          right = Math.max(right, x);
          rows.add(y);
        }
      }
    }
    return { width: info.width, left, right, rows: rows.size };
  }

  it('a long title over 2 classes is whole: the picture widens, the title wraps, no ink touches the edges', async () => {
    // What `insight evaluate` on a 2-class folder writes (the case: the title was cut at both sides).
    for (const [title, lines] of [
      ['Confusion matrix - validation (last 8 of 80 images) (8 images)', 2],
      ['Confusion matrix - held-out (stratified 10% of 80 images, seed 0, classes Abyssinian,American_bulldog: 8 images) (8 images)', 3],
    ] as const) {
      const png = await confusionPng([[3, 1], [0, 4]], ['cat', 'dog'], title);
      const layout = confusionLayout(2, ['cat', 'dog'], title);
      const detail = title.slice('Confusion matrix - '.length, -' (8 images)'.length);
      assert.ok(layout.width > 2 * 44 + 40, `wider than the grid alone: ${layout.width}`);
      assert.ok(layout.width <= 560, `at most 560 px wide: ${layout.width}`);
      assert.equal(layout.titleLines.length, lines, JSON.stringify(layout.titleLines));
      assert.equal(layout.titleLines[0].text, 'Confusion matrix');
      assert.equal(layout.titleLines.slice(1).map((l) => l.text).join(' '), detail);
      assert.equal((await sharp(png).metadata()).width, layout.width);
      const ink = await inkOf(png, 0, layout.titleBottom);
      assert.ok(ink.left >= 6 && ink.right <= ink.width - 7, `title ink ${ink.left}..${ink.right} of ${ink.width} px`);
      assert.ok(ink.right - ink.left > ink.width / 2, `the title spans the picture: ${ink.left}..${ink.right} of ${ink.width}`);
      assert.ok(ink.rows > 10 * lines, `${lines} lines of text and the caption: ${ink.rows} inked rows`);
      // The whole picture: labels and grid inside too.
      const all = await inkOf(png, 0, layout.height);
      assert.ok(all.left >= 4 && all.right <= all.width - 5, `picture ink ${all.left}..${all.right} of ${all.width} px`);
    }
  });

  it('long class names are shortened, not clipped; the bottom labels fit', async () => {
    const names2 = ['a rather long class name that goes on and on', 'x'];
    const layout = confusionLayout(2, names2);
    assert.match(layout.labels[0], /…$/);
    assert.equal(layout.labels[1], 'x');
    const png = await confusionPng([[1, 0], [0, 1]], names2);
    const ink = await inkOf(png, 0, layout.height);
    assert.ok(ink.left >= 4 && ink.right <= ink.width - 5, `ink ${ink.left}..${ink.right} of ${ink.width}`);
    const bottomBand = await inkOf(png, layout.height - 4, layout.height);
    assert.equal(bottomBand.rows, 0, 'nothing drawn in the last rows: the rotated labels end above the bottom edge');
  });

  it('the image count is said once', () => {
    assert.equal(confusionTitle('validation (last 500 of 5000 images)', 500), 'Confusion matrix - validation (last 500 of 5000 images)');
    assert.equal(confusionTitle('held-out (last 5000 records, classes 5,6,7,8,9: 2512 images)', 2512),
      'Confusion matrix - held-out (last 5000 records, classes 5,6,7,8,9: 2512 images)');
    assert.equal(confusionTitle('test', 10000), 'Confusion matrix - test (10000 images)');
    // A description giving other numbers keeps the count.
    assert.equal(tidyTitle('Confusion matrix - first 50 (49 images)'), 'Confusion matrix - first 50 (49 images)');
    const svg = confusionSvg([[1, 0], [0, 1]], ['a', 'b'], 'Confusion matrix - validation (last 26 of 256 images) (26 images)');
    assert.equal(svg.match(/\(26 images\)/g), null, svg);
    assert.ok(svg.includes('>validation (last 26 of 256 images)</text>'), svg);
  });
});
