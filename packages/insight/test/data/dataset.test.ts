// Dataset selections: subsets, class filters and the train/validation split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterClasses, splitTrainValidation, subsetDataset, type ImageDataset } from '../../src/data';
import { indexDataset } from './helpers';

/** The first byte of every image: identifies the record (index * 16) in an indexDataset. */
const ids = (ds: ImageDataset) => Array.from({ length: ds.count }, (_, i) => ds.images[i * ds.height * ds.width * 3] / 16);

describe('subsetDataset', () => {
  it('copies the chosen records in order, onto shared memory', () => {
    const ds = indexDataset(8);
    const sub = subsetDataset(ds, [5, 1, 5]);
    assert.deepEqual(ids(sub), [5, 1, 5]);
    assert.deepEqual(Array.from(sub.labels), [2, 1, 2]);
    assert.equal(sub.count, 3);
    assert.ok(sub.images.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(Array.from(sub.images.subarray(48, 96)), Array.from(ds.images.subarray(48, 96)));
  });

  it('rejects indices outside the dataset', () => {
    assert.throws(() => subsetDataset(indexDataset(4), [0, 4]),
      /Every subset index must be an integer in \[0, count\)\. Received: position=1, index=4, count=4\./);
  });
});

describe('filterClasses', () => {
  const ds = indexDataset(9, 2, 2, 3); // labels 0,1,2,0,1,2,...
  it('relabels to positions in the class list by default', () => {
    const f = filterClasses(ds, [2, 0]);
    assert.deepEqual(ids(f), [0, 2, 3, 5, 6, 8]);
    assert.deepEqual(Array.from(f.labels), [1, 0, 1, 0, 1, 0]);
    assert.deepEqual(f.classNames, ['c2', 'c0']);
  });

  it('keeps the original labels and names with relabel false', () => {
    const f = filterClasses(ds, [1], false);
    assert.deepEqual(ids(f), [1, 4, 7]);
    assert.deepEqual(Array.from(f.labels), [1, 1, 1]);
    assert.deepEqual(f.classNames, ['c0', 'c1', 'c2']);
  });

  it('rejects unknown, duplicate or no classes', () => {
    assert.throws(() => filterClasses(ds, [3]), /Every class must be an integer in \[0, 3\)\. Received: classes=\[3\]\./);
    assert.throws(() => filterClasses(ds, [1, 1]), /Every class may appear only once\./);
    assert.throws(() => filterClasses(ds, []), /filterClasses needs at least one class\./);
  });
});

describe('splitTrainValidation', () => {
  const ds = indexDataset(10);

  it('holds out the last validationCount records by default, as views', () => {
    const { train, validation } = splitTrainValidation(ds, { validationCount: 3 });
    assert.deepEqual(ids(train), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(ids(validation), [7, 8, 9]);
    assert.deepEqual(Array.from(validation.labels), [1, 2, 0]);
    assert.equal(validation.images.buffer, ds.images.buffer, 'no copy');
    assert.equal(validation.images.length, 3 * 48);
  });

  it('rounds validationFraction', () => {
    const { train, validation } = splitTrainValidation(ds, { validationFraction: 0.25 });
    assert.deepEqual([train.count, validation.count], [7, 3]);
  });

  it('shuffle: a seeded, disjoint, complete split that keeps record order within each part', () => {
    const a = splitTrainValidation(ds, { validationCount: 4, shuffle: true, seed: 7 });
    const b = splitTrainValidation(ds, { validationCount: 4, shuffle: true, seed: 7 });
    const c = splitTrainValidation(ds, { validationCount: 4, shuffle: true, seed: 8 });
    const [train, val] = [ids(a.train), ids(a.validation)];
    assert.equal(val.length, 4);
    assert.equal(train.length, 6);
    assert.deepEqual([...train, ...val].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(train, [...train].sort((x, y) => x - y));
    assert.deepEqual(ids(b.validation), val);
    assert.notDeepEqual(ids(c.validation), val);
    assert.notDeepEqual(val, [6, 7, 8, 9]);
  });

  it('the CIFAR convention: 50,000 → 45,000 + 5,000', () => {
    const big = { ...indexDataset(1), images: new Uint8Array(50000 * 3), labels: new Int32Array(50000), count: 50000, height: 1, width: 1 };
    const { train, validation } = splitTrainValidation(big, { validationCount: 5000 });
    assert.deepEqual([train.count, validation.count, train.images.length], [45000, 5000, 135000]);
  });

  it('rejects ambiguous or impossible sizes', () => {
    assert.throws(() => splitTrainValidation(ds, {}), /needs exactly one of validationCount or validationFraction\. Received: validationCount=undefined, validationFraction=undefined\./);
    assert.throws(() => splitTrainValidation(ds, { validationCount: 2, validationFraction: 0.1 }), /exactly one of/);
    assert.throws(() => splitTrainValidation(ds, { validationCount: 10 }), /validationCount must be an integer in \[1, 9\]\. Received: validationCount=10\./);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 1 }), /validationFraction must be in \(0, 1\)/);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 0.01 }), /leave at least one record in each part\. Received: validationFraction=0\.01, count=10\./);
  });
});
