// The confusion matrix picture: a valid PNG of the expected size, with the counts drawn (sharp renders the SVG).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { confusionImageSize, confusionPng, confusionSvg } from '../../src/eval/confusion_png';

describe('confusion PNG', () => {
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  const matrix = names.map((_, t) => names.map((__, p) => (t === p ? 90 : t + p)));

  it('is a PNG of confusionImageSize(10) pixels', async () => {
    const png = await confusionPng(matrix, names);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual({ width: meta.width, height: meta.height }, confusionImageSize(10));
    assert.deepEqual(confusionImageSize(10), { width: 590, height: 620 });
  });

  it('draws something in the cells: the diagonal is darker than an off-diagonal cell', async () => {
    const { data, info } = await sharp(await confusionPng(matrix, names)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => data[(y * info.width + x) * 3];
    // Cell (row 0, col 0) corner vs cell (row 0, col 5) corner (130 + 44·col + 2, 70 + 2).
    assert.ok(pixel(132, 72) < 100, `diagonal red ${pixel(132, 72)}`);
    assert.ok(pixel(132 + 5 * 44, 72) > 200, `off-diagonal red ${pixel(352, 72)}`);
  });

  it('the SVG has every count and class name, XML-escaped', () => {
    const svg = confusionSvg([[1, 2], [3, 4]], ['a<b', 'c&d'], 'T');
    for (const text of ['>1<', '>2<', '>3<', '>4<', 'a&lt;b', 'c&amp;d']) assert.ok(svg.includes(text), text);
  });
});
