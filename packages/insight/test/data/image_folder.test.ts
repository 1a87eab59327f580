// Image folders: the shared JPEG mini set, every colour model sharp meets (grayscale, RGBA, CMYK), resizing,
// and files that must be skipped and reported rather than crash the load.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it, before } from 'node:test';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/data';
import { CLASS_NAMES, tempDir } from './helpers';
import { JPG_MINI } from '../shared_data';

const MINI = JPG_MINI;

describe('loadImageFolder on the shared JPEG mini set', { skip: !existsSync(MINI) && 'shared data not present' }, () => {
  it('loads 500 images of 10 sorted classes, 50 each, pixel-exact at 32x32', async () => {
    const ds = await loadImageFolder(MINI);
    assert.equal(ds.count, 500);
    assert.deepEqual([ds.height, ds.width, ds.channels], [32, 32, 3]);
    assert.equal(ds.images.length, 500 * 32 * 32 * 3);
    assert.deepEqual(ds.classNames, CLASS_NAMES);
    assert.deepEqual(ds.skipped, []);
    assert.equal(ds.files.length, 500);
    for (let c = 0; c < 10; c++) assert.equal(ds.labels.filter((l) => l === c).length, 50);
    assert.equal(ds.files[0], path.join(MINI, 'airplane', '0000.jpg'));
    assert.equal(ds.labels[499], 9);
    const direct = await sharp(ds.files[123]).raw().toBuffer();
    assert.deepEqual(Buffer.from(ds.images.subarray(123 * 3072, 124 * 3072)), direct);
  });

  it('resizes to the requested height and width, and keeps only the requested classes in their order', async () => {
    const ds = await loadImageFolder(MINI, { height: 8, width: 12, classNames: ['truck', 'cat'], concurrency: 2 });
    assert.deepEqual([ds.count, ds.height, ds.width], [100, 8, 12]);
    assert.equal(ds.images.length, 100 * 8 * 12 * 3);
    assert.deepEqual(ds.classNames, ['truck', 'cat']);
    assert.equal(ds.labels[0], 0);
    assert.equal(ds.labels[99], 1);
    assert.match(ds.files[0], /truck/);
  });
});

describe('loadImageFolder on mixed and broken files', () => {
  const root = tempDir();
  before(async () => {
    mkdirSync(path.join(root, 'a'));
    mkdirSync(path.join(root, 'b', 'nested'), { recursive: true });
    const raw = (channels: 1 | 3 | 4, width: number, height: number, fill: (i: number) => number) =>
      sharp(Buffer.from(Array.from({ length: width * height * channels }, (_, i) => fill(i))), { raw: { width, height, channels } });
    await raw(1, 8, 8, () => 90).toColourspace('b-w').png().toFile(path.join(root, 'a', 'gray.png'));
    await raw(4, 8, 8, (i) => (i % 4 === 3 ? 255 : [10, 200, 30][i % 4])).png().toFile(path.join(root, 'a', 'rgba.png'));
    await raw(3, 8, 8, (i) => [255, 0, 0][i % 3]).toColourspace('cmyk').jpeg().toFile(path.join(root, 'b', 'cmyk.jpg'));
    await raw(3, 40, 20, (i) => [0, 0, 250][i % 3]).webp({ lossless: true }).toFile(path.join(root, 'b', 'nested', 'blue.webp'));
    const jpeg = readFileSync(path.join(MINI, 'cat', '0000.jpg'));
    writeFileSync(path.join(root, 'a', 'corrupt.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(path.join(root, 'b', 'empty.png'), Buffer.alloc(0));
    writeFileSync(path.join(root, 'b', 'notes.txt'), 'not an image\n');
    writeFileSync(path.join(root, 'b', '.DS_Store'), 'hidden files are ignored');
  });

  it('converts every colour model to RGB and reports the skipped files with reasons', async () => {
    assert.equal((await sharp(path.join(root, 'a', 'gray.png')).metadata()).channels, 1);
    assert.equal((await sharp(path.join(root, 'a', 'rgba.png')).metadata()).channels, 4);
    assert.equal((await sharp(path.join(root, 'b', 'cmyk.jpg')).metadata()).space, 'cmyk');
    const ds = await loadImageFolder(root, { height: 4, width: 4 });
    assert.deepEqual(ds.classNames, ['a', 'b']);
    assert.equal(ds.count, 4);
    assert.deepEqual(ds.files.map((f) => path.relative(root, f)), ['a/gray.png', 'a/rgba.png', 'b/cmyk.jpg', 'b/nested/blue.webp']);
    assert.deepEqual(Array.from(ds.labels), [0, 0, 1, 1]);
    const px = (i: number) => Array.from(ds.images.subarray(i * 48, i * 48 + 3));
    assert.deepEqual(px(0), [90, 90, 90], 'grayscale expanded to three equal channels');
    assert.deepEqual(px(1), [10, 200, 30], 'opaque alpha removed');
    const [r, g, b] = px(2);
    assert.ok(r > 200 && g < 60 && b < 60, `CMYK red converted to RGB red, got ${[r, g, b]}`);
    assert.deepEqual(px(3), [0, 0, 250], 'WebP from a nested folder, resized');
    assert.deepEqual(ds.skipped.map((s) => path.relative(root, s.path)), ['a/corrupt.jpg', 'b/empty.png', 'b/notes.txt']);
    assert.match(ds.skipped[0].reason, /^cannot be decoded \(.*Premature end/);
    assert.equal(ds.skipped[1].reason, 'empty file (0 bytes)');
    assert.match(ds.skipped[2].reason, /^not an image \(.*unsupported image format/);
  });

  it('gives every skipped file its own reason, even when many fail at once', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'jpg'));
    mkdirSync(path.join(dir, 'txt'));
    const jpeg = readFileSync(path.join(MINI, 'dog', '0001.jpg'));
    for (let i = 0; i < 30; i++) {
      writeFileSync(path.join(dir, 'jpg', `${i}.jpg`), jpeg.subarray(0, 200 + i * 10));
      writeFileSync(path.join(dir, 'txt', `${i}.jpg`), `text ${i}`);
    }
    await sharp(jpeg).toFile(path.join(dir, 'txt', 'zz-good.png'));
    const ds = await loadImageFolder(dir, { concurrency: 16 });
    assert.equal(ds.count, 1);
    assert.equal(ds.skipped.length, 60);
    for (const { path: file, reason } of ds.skipped) {
      if (file.includes(`${path.sep}jpg${path.sep}`)) assert.match(reason, /^cannot be decoded \(.*VipsJpeg: Premature end of input file\)$/, file);
      else assert.match(reason, /^not an image \(Input file contains unsupported image format\)$/, file);
    }
  });

  it('flattens transparency onto white', async () => {
    const dir = tempDir();
    for (const c of ['x', 'y']) mkdirSync(path.join(dir, c));
    await sharp(Buffer.alloc(4 * 4 * 4, 0), { raw: { width: 4, height: 4, channels: 4 } }).png().toFile(path.join(dir, 'x', 'clear.png'));
    await sharp(Buffer.alloc(4 * 4 * 3, 7), { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(path.join(dir, 'y', 'dark.png'));
    const ds = await loadImageFolder(dir, { height: 4, width: 4 });
    assert.deepEqual(Array.from(ds.images.subarray(0, 48)), new Array(48).fill(255));
    assert.deepEqual(Array.from(ds.images.subarray(48, 96)), new Array(48).fill(7));
  });
});

describe('loadImageFolder errors', () => {
  it('no class subfolders', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'img.png'), 'x');
    await assert.rejects(loadImageFolder(dir),
      /^InsightError: An image folder needs one subfolder per class \(root\/<class>\/<image>\)\. Received: root=".*", subfolders=0, files=1\. Move the images/);
  });

  it('only one class', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'cats'));
    await assert.rejects(loadImageFolder(dir),
      /An image classifier needs at least 2 classes \(one subfolder each\)\. Received: root=".*", classNames=\["cats"\]\. Add a subfolder/);
  });

  it('one class is enough with minClasses 1 (evaluation images, a separate validation folder)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'cat'));
    copyFileSync(path.join(MINI, 'cat', '0000.jpg'), path.join(dir, 'cat', 'a.jpg'));
    const ds = await loadImageFolder(dir, { minClasses: 1, height: 4, width: 4 });
    assert.deepEqual([ds.count, ds.classNames, Array.from(ds.labels)], [1, ['cat'], [0]]);
  });

  it('no images at all, and nothing readable', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'p'));
    mkdirSync(path.join(dir, 'q'));
    await assert.rejects(loadImageFolder(dir),
      /needs at least one readable image under its class folders\. Received: root=".*", classNames=\["p","q"\], files=0, skipped=0\. Put the images/);
    writeFileSync(path.join(dir, 'p', 'a.jpg'), 'junk');
    await assert.rejects(loadImageFolder(dir), /files=1, skipped=1\. Every file was skipped \(first: .*a\.jpg: not an image/);
  });

  it('a missing root, unknown classNames and bad sizes', async () => {
    await assert.rejects(loadImageFolder('/nonexistent/insight'), /The image folder root must be a readable folder\. Received: root="\/nonexistent\/insight", error="ENOENT"/);
    await assert.rejects(loadImageFolder(MINI, { classNames: ['cat', 'unicorn'] }),
      /classNames must name distinct subfolders of the image folder\. Received: classNames=\["cat","unicorn"\], subfolders=\["airplane"/);
    await assert.rejects(loadImageFolder(MINI, { height: 0 }), /height must be an integer in \[1, 16384\]\. Received: height=0\./);
    await assert.rejects(loadImageFolder(MINI, { concurrency: 1.5 }), /concurrency must be an integer in \[1, 1024\]\. Received: concurrency=1\.5\./);
  });
});
