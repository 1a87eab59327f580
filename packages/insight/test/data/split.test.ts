// Stratified selections (issue 18 item 1): the seeded per-class split, the stratified --limit, the apportionment
// behind both, class matching by name and class selection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { splitTrainValidation, type ImageDataset } from '../../src/data';
import { apportion, classCounts, firstPerClass, relabelByName, sampleDataset, selectClasses } from '../../src/data/dataset';
import { indexDataset } from './helpers';

/** The first byte of every image: identifies the record (index * 16 mod 256) in an indexDataset. */
const ids = (ds: ImageDataset) => Array.from({ length: ds.count }, (_, i) => ds.images[i * ds.height * ds.width * 3] / 16);

/** sizes[c] records of class c, sorted by class as an image folder loads them, with file names; bytes: record % 256, record / 256, 0. */
function classSorted(classes: number, perClass: number, sizes = Array<number>(classes).fill(perClass)): ImageDataset {
  const count = sizes.reduce((x, y) => x + y, 0);
  const images = new Uint8Array(count * 3);
  const labels = new Int32Array(count);
  const files: string[] = [];
  let i = 0;
  sizes.forEach((size, c) => {
    for (let k = 0; k < size; k++, i++) {
      labels[i] = c;
      images[i * 3] = i & 255;
      images[i * 3 + 1] = i >> 8;
      files.push(`c${c}/${k}.jpg`);
    }
  });
  return { images, labels, count, height: 1, width: 1, channels: 3, classNames: sizes.map((_, c) => `c${c}`), files };
}

/** The record number of every image of a classSorted dataset (from its first two bytes). */
const record = (ds: ImageDataset) => Array.from({ length: ds.count }, (_, i) => ds.images[i * 3] + 256 * ds.images[i * 3 + 1]);

describe('apportion', () => {
  it('gives largest remainders, ties to the lower class', () => {
    assert.deepEqual(apportion([50, 50, 50], [49, 49, 49], 20), [7, 7, 6]);
    assert.deepEqual(apportion([50, 30, 20], [50, 30, 20], 10), [5, 3, 2]);
    assert.deepEqual(apportion([10, 10, 10, 10], [9, 9, 9, 9], 6), [2, 2, 1, 1]);
  });

  it('gives every class that can spare one at least one when the total allows, and respects the caps', () => {
    assert.deepEqual(apportion([100, 10, 1], [99, 9, 0], 11), [10, 1, 0]); // the one-image class keeps its image
    assert.deepEqual(apportion([90, 5, 5], [89, 4, 4], 3), [1, 1, 1]); // proportional would be [3, 0, 0]
    assert.deepEqual(apportion([90, 5, 5], [89, 4, 4], 2), [2, 0, 0]); // fewer than the classes: proportional only
    assert.deepEqual(apportion([3, 3], [2, 2], 4), [2, 2]);
  });
});

describe('splitTrainValidation with stratify', () => {
  const ds = classSorted(10, 50); // 500 records, class-sorted like an image folder

  it('issue 18: the last records of a class-sorted set are ONE class; stratified holds out 5 of each of the 10', () => {
    const last = splitTrainValidation(ds, { validationCount: 50 });
    assert.deepEqual(classCounts(last.validation), [0, 0, 0, 0, 0, 0, 0, 0, 0, 50]);
    const { train, validation } = splitTrainValidation(ds, { validationCount: 50, stratify: true, shuffle: true, seed: 0 });
    assert.deepEqual(classCounts(validation), Array(10).fill(5));
    assert.deepEqual(classCounts(train), Array(10).fill(45));
    const all = [...record(train), ...record(validation)].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 500 }, (_, i) => i), 'disjoint and complete');
    assert.deepEqual(record(validation), [...record(validation)].sort((a, b) => a - b), 'record order kept');
    assert.deepEqual(validation.files, record(validation).map((r) => `c${Math.floor(r / 50)}/${r % 50}.jpg`), 'files follow the images');
    assert.deepEqual(Array.from(validation.labels), record(validation).map((r) => Math.floor(r / 50)));
  });

  it('is seeded: same seed same split, another seed another; without shuffle each class\'s last records', () => {
    const a = splitTrainValidation(ds, { validationCount: 50, stratify: true, shuffle: true, seed: 3 });
    const b = splitTrainValidation(ds, { validationCount: 50, stratify: true, shuffle: true, seed: 3 });
    const c = splitTrainValidation(ds, { validationCount: 50, stratify: true, shuffle: true, seed: 4 });
    assert.deepEqual(record(a.validation), record(b.validation));
    assert.notDeepEqual(record(a.validation), record(c.validation));
    const fixed = splitTrainValidation(ds, { validationCount: 20, stratify: true });
    assert.deepEqual(record(fixed.validation), Array.from({ length: 10 }, (_, c) => [c * 50 + 48, c * 50 + 49]).flat());
  });

  it('a class\'s pick depends on its name only: another class added leaves the others alone', () => {
    const small = classSorted(2, 50);
    const grown = classSorted(3, 50);
    const a = splitTrainValidation(small, { validationCount: 10, stratify: true, shuffle: true, seed: 1 });
    const b = splitTrainValidation(grown, { validationCount: 15, stratify: true, shuffle: true, seed: 1 });
    assert.deepEqual(record(b.validation).filter((r) => r < 100), record(a.validation));
  });

  it('refuses to hold out a class\'s last training image', () => {
    const tiny = classSorted(3, 2); // room: 1 per class
    assert.deepEqual(classCounts(splitTrainValidation(tiny, { validationCount: 3, stratify: true, shuffle: true }).train), [1, 1, 1]);
    assert.throws(() => splitTrainValidation(tiny, { validationCount: 4, stratify: true, shuffle: true }),
      /^InsightError: A stratified split keeps at least one training image of every class\. Received: validationCount=4, images=6, classes=3\. Hold out at most 3 images/);
  });
});

describe('sampleDataset (--limit)', () => {
  const ds = classSorted(10, 50);

  it('issue 18: the first 40 of a class-sorted set are one class; stratified takes 4 of each, seeded', () => {
    assert.deepEqual(classCounts(sampleDataset(ds, 40)), [40, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const a = sampleDataset(ds, 40, { stratify: true, seed: 0 });
    assert.deepEqual(classCounts(a), Array(10).fill(4));
    assert.deepEqual(record(a), [...record(a)].sort((x, y) => x - y));
    assert.deepEqual(record(sampleDataset(ds, 40, { stratify: true, seed: 0 })), record(a));
    assert.notDeepEqual(record(sampleDataset(ds, 40, { stratify: true, seed: 1 })), record(a));
    assert.deepEqual(classCounts(sampleDataset(ds, 7, { stratify: true })), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('keeps proportions of unequal classes and returns the dataset itself when the limit covers it', () => {
    const sub = sampleDataset(classSorted(3, 0, [60, 30, 10]), 20, { stratify: true, seed: 2 });
    assert.deepEqual(classCounts(sub), [12, 6, 2]);
    assert.equal(sampleDataset(ds, 500, { stratify: true }), ds);
    assert.throws(() => sampleDataset(ds, 0), /limit must be a positive integer\. Received: limit=0\./);
  });
});

describe('relabelByName', () => {
  it('maps a subset of the classes to the target\'s indices by name, in any order', () => {
    const ds = indexDataset(6, 1, 1, 2); // c0, c1 alternating
    const folder = { ...ds, classNames: ['dog', 'cat'] };
    const mapped = relabelByName(folder, ['airplane', 'cat', 'dog']);
    assert.deepEqual(Array.from(mapped.labels), [2, 1, 2, 1, 2, 1]);
    assert.deepEqual(mapped.classNames, ['airplane', 'cat', 'dog']);
    assert.equal(mapped.images, folder.images, 'images shared');
    assert.equal(relabelByName(ds, ['c0', 'c1']), ds, 'already aligned: the dataset itself');
  });

  it('names the classes the target does not have (classes without images do not count)', () => {
    const ds = { ...indexDataset(4, 1, 1, 2), classNames: ['cat', 'unicorn', 'empty'] };
    assert.throws(() => relabelByName(ds, ['cat', 'dog']),
      /^InsightError: Every class of the data must be one of the model's classes \(matched by name\)\. Received: absent=\["unicorn"\], classes=\["cat","dog"\]\. Remove the images of unicorn/);
  });
});

describe('selectClasses and firstPerClass', () => {
  it('selects by name or index, relabels in the order given, and keeps files in step', () => {
    const ds = classSorted(3, 4);
    const sel = selectClasses(ds, ['c2', '0'], 'classes');
    assert.deepEqual(sel.classNames, ['c2', 'c0']);
    assert.deepEqual(classCounts(sel), [4, 4]);
    assert.deepEqual(sel.files, ['c0/0.jpg', 'c0/1.jpg', 'c0/2.jpg', 'c0/3.jpg', 'c2/0.jpg', 'c2/1.jpg', 'c2/2.jpg', 'c2/3.jpg']);
    assert.throws(() => selectClasses(ds, ['c9'], 'classes'),
      /Every entry of classes must be a class index or name of the dataset\. Received: classes="c9", unknown="c9"\. Use indices 0-2 or names: c0, c1, c2\./);
    assert.deepEqual(ids(firstPerClass(indexDataset(9, 1, 1, 3), 2)), [0, 1, 2, 3, 4, 5]);
    assert.throws(() => firstPerClass(ds, 5), /Every class needs at least --per-class training images\. Received: perClass=5, classes=\["c0: 4","c1: 4","c2: 4"\]/);
  });
});
