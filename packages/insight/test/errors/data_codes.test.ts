// The data layer's errors carry their own precise code (no mapping by class in the CLI): a bad option value is
// INSIGHT_E_CONFIG, missing, corrupt or too-small data is INSIGHT_E_DATA, misuse of a closed loader a bug
// (INSIGHT_E_INTERNAL). Each case: the library call, its code, and its message.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DataLoader, filterClasses, loadCifar10, loadImageFolder, splitTrainValidation, subsetDataset } from '../../src/data';
import { InsightError, type ErrorCode } from '../../src/errors';
import { indexDataset, tempDir } from '../data/helpers';

const ds = indexDataset(4);

const cases: [string, () => unknown, ErrorCode, RegExp][] = [
  ['a loader option out of range', () => new DataLoader(ds, { batchSize: 0, workers: 0 }), 'INSIGHT_E_CONFIG',
    /^batchSize must be a positive integer\. Received: batchSize=0\. Pass e\.g\. batchSize: 64\.$/],
  ['an augmentation option out of range', () => new DataLoader(ds, { batchSize: 2, workers: 0, augment: { cutout: { size: 9 } } }), 'INSIGHT_E_CONFIG',
    /^augment\.cutout\.size must be an integer in \[1, 4\]\. Received: augment\.cutout\.size=9\./],
  ['an unknown normalization', () => new DataLoader(ds, { batchSize: 2, workers: 0, normalization: { kind: 'zscore' } as never }), 'INSIGHT_E_CONFIG',
    /^normalization\.kind must be 'scale' or 'meanstd'\. Received: kind="zscore"\./],
  ['a class index the dataset does not have', () => filterClasses(ds, [3]), 'INSIGHT_E_CONFIG', /^Every class must be an integer in \[0, 3\)\. Received: classes=\[3\]\./],
  ['a subset index past the end', () => subsetDataset(ds, [0, 4]), 'INSIGHT_E_CONFIG', /^Every subset index must be an integer in \[0, count\)\. Received: position=1, index=4, count=4\./],
  ['an inconsistent dataset', () => new DataLoader({ ...ds, count: 5 }, { batchSize: 1 }), 'INSIGHT_E_DATA',
    /^dataset\.images must hold count\*height\*width\*3 bytes\. Received: images\.length=192, count=5/],
  ['a dataset too small for the split', () => splitTrainValidation(ds, { validationCount: 4 }), 'INSIGHT_E_DATA',
    /^validationCount must be an integer in \[1, 3\]\. Received: validationCount=4\./],
  ['an empty dataset to load from', () => new DataLoader(subsetDataset(ds, []), { batchSize: 1, workers: 0 }), 'INSIGHT_E_DATA',
    /^A DataLoader needs at least one record\. Received: count=0\./],
];

describe('data-layer error codes', () => {
  for (const [what, call, code, message] of cases) {
    it(`${what}: ${code}`, () => {
      assert.throws(call, (error: unknown) => {
        assert.ok(error instanceof InsightError, String(error));
        assert.equal(error.code, code);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('an unknown CIFAR-10 split is INSIGHT_E_CONFIG; a missing path and a corrupt archive are INSIGHT_E_DATA', async () => {
    const dir = tempDir();
    const expect = (code: ErrorCode, message: RegExp) => (error: unknown) =>
      error instanceof InsightError && error.code === code && message.test(error.message);
    await assert.rejects(loadCifar10({ path: dir, split: 'val' as 'test' }), expect('INSIGHT_E_CONFIG', /^split must be 'train' or 'test'\. Received: split="val"\./));
    await assert.rejects(loadCifar10({ path: path.join(dir, 'nope') }), expect('INSIGHT_E_DATA', /^The CIFAR-10 path does not exist\. Received: path=".*nope"\./));
    const archive = path.join(dir, 'broken.tar.gz');
    fs.writeFileSync(archive, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not really gzip'.repeat(30))]));
    await assert.rejects(loadCifar10({ path: archive, cacheDir: path.join(dir, 'cache') }),
      expect('INSIGHT_E_DATA', /broken\.tar\.gz is not a readable CIFAR-10 archive: .* Received: path=".*broken\.tar\.gz"\. Download it again from /));
  });

  it('a missing image folder is INSIGHT_E_DATA; a bad image size option INSIGHT_E_CONFIG', async () => {
    await assert.rejects(loadImageFolder('/nonexistent/insight'), (error: unknown) => error instanceof InsightError && error.code === 'INSIGHT_E_DATA'
      && /^The image folder root must be a readable folder\. Received: root="\/nonexistent\/insight", error="ENOENT"/.test(error.message));
    await assert.rejects(loadImageFolder(tempDir(), { height: 0 }), (error: unknown) => error instanceof InsightError && error.code === 'INSIGHT_E_CONFIG'
      && /^height must be an integer in \[1, 16384\]\. Received: height=0\./.test(error.message));
  });

  it('a closed loader is a bug of its caller: INSIGHT_E_INTERNAL', async () => {
    const loader = new DataLoader(ds, { batchSize: 2, workers: 0 });
    await loader.close();
    assert.throws(() => loader.epoch(0), (error: unknown) => error instanceof InsightError && error.code === 'INSIGHT_E_INTERNAL'
      && error.message === 'This DataLoader is closed. Received: closed=true. Create a new DataLoader.');
  });
});
