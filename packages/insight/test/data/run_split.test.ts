// A run's split of its data (run/dataset_source.ts, issue 18 items 1 and 6), on the shared JPEG mini set (10 classes
// x 50, class-sorted on disk) and tiny CIFAR-10 batches: the seeded stratified split and --limit, CIFAR-10's house
// split, --val-data, what a run records in data.json, and what it says (skipped files, a validation set too small).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { classCounts } from '../../src/data/dataset';
import {
  DEFAULT_SPLIT, dataNotices, dataRecord, loadRunSplit, readDataRecord, recordRunData, runSplitSettings, splitForRun, type DatasetSource,
  type SplitSettings,
} from '../../src/run/dataset_source';
import { RunDir } from '../../src/run/run_dir';
import { JPG_MINI } from '../shared_data';
import { CLASS_NAMES, tempDir, writeTinyCifar } from './helpers';

const MINI: DatasetSource = { data: JPG_MINI, dataset: 'auto', imageSize: 8 };
const settings = (over: Partial<SplitSettings> = {}): SplitSettings => ({ ...DEFAULT_SPLIT, ...over });
const relative = (root: string, files: string[] | undefined) => (files ?? []).map((f) => path.relative(root, f));

/** root/<class>/ linked to the mini set's class folders. */
function linkedFolder(classes: string[], root = tempDir()): string {
  for (const c of classes) symlinkSync(path.join(JPG_MINI, c), path.join(root, c));
  return root;
}

describe('loadRunSplit on an image folder', () => {
  it('issue 18: validation is 10% of EVERY class (it was the last 50 files: all trucks), seeded by --split-seed', async () => {
    const split = await loadRunSplit(MINI, settings());
    assert.equal(split.method, 'stratified');
    assert.deepEqual(classCounts(split.validation!), Array(10).fill(5));
    assert.deepEqual(classCounts(split.train), Array(10).fill(45));
    assert.equal(split.validationDescription, 'validation (stratified 50 of 500 images, split seed 0)');
    assert.equal(split.trainDescription, 'train (450 of 500 images, stratified, split seed 0)');
    const again = splitForRun(split.dataset, null, null, { method: 'auto', seed: 0 });
    assert.deepEqual(again.validation!.files, split.validation!.files, 'same settings, same images');
    const other = splitForRun(split.dataset, null, null, { seed: 1 });
    assert.notDeepEqual(other.validation!.files, split.validation!.files);
    assert.deepEqual(classCounts(other.validation!), Array(10).fill(5));
    const trainFiles = new Set(split.train.files);
    assert.ok(split.validation!.files!.every((f) => !trainFiles.has(f)), 'no validation image trains');

    const last = splitForRun(split.dataset, null, null, { method: 'last' });
    assert.deepEqual(classCounts(last.validation!), [0, 0, 0, 0, 0, 0, 0, 0, 0, 50], 'the old split, only when asked for');
    assert.equal(last.validationDescription, 'validation (last 50 of 500 images)');
  });

  it('issue 18: --limit 40 keeps 4 of every class (it kept the first 40: all airplanes), and says which classes go unvalidated', async () => {
    const split = await loadRunSplit(MINI, settings({ limit: 40 }));
    assert.equal(split.total, 40);
    assert.deepEqual(classCounts(split.validation!).reduce((a, b) => a + b), 4);
    assert.deepEqual(classCounts(split.train).map((n, c) => n + classCounts(split.validation!)[c]), Array(10).fill(4));
    const record = dataRecord(MINI, settings({ limit: 40 }), split, split.train, split.validation);
    const notices = dataNotices(record, 'data.json');
    assert.equal(notices.length, 2);
    assert.equal(notices[0], '  warning: the validation set has only 4 images (under 100), so its accuracy is uncertain by up to ±49.0 points '
      + '(95% interval); hold out more images (--validation-count) or pass a larger --val-data.');
    assert.match(notices[1], /^ {2}warning: 6 of 10 classes have no validation images \((\w+, ){5}\w+\), so their accuracy is not measured; hold out at least one image of each \(--validation-count >= 10/);
  });

  it('--val-data: every --data image trains; the validation folder may hold some classes, matched by name', async () => {
    const val = linkedFolder(['dog', 'cat']);
    const split = await loadRunSplit(MINI, settings({ valData: val }));
    assert.equal(split.method, 'val-data');
    assert.equal(split.train.count, 500);
    assert.equal(split.validation!.count, 100);
    assert.deepEqual(split.validation!.classNames, CLASS_NAMES);
    const counts = classCounts(split.validation!);
    assert.deepEqual([counts[3], counts[5], counts.reduce((a, b) => a + b)], [50, 50, 100], 'cat=3, dog=5 as in training');
    assert.equal(split.validationDescription, `validation (100 images of ${val})`);
    assert.equal(split.trainDescription, 'train (all 500 images)');
    const record = dataRecord(MINI, settings({ valData: val }), split, split.train, split.validation);
    assert.equal(record.validation!.files![0], 'cat/0000.jpg', 'files relative to the --val-data folder');
    assert.deepEqual(record.split, { method: 'val-data', seed: null, limit: null, validationCount: 100, valData: val });

    await assert.rejects(loadRunSplit(MINI, settings({ valData: val, validationCount: 10 })),
      /^InsightError: A separate validation set replaces the held-out split: give --val-data or --validation-count, not both\. Received: valData=".*", validationCount=10\./);
    const unknown = linkedFolder(['cat']);
    symlinkSync(path.join(JPG_MINI, 'dog'), path.join(unknown, 'unicorn'));
    await assert.rejects(loadRunSplit(MINI, settings({ valData: unknown })),
      /^InsightError: Every class of the data must be one of the training data's classes \(matched by name\)\. Received: absent=\["unicorn"\]/);
  });
});

describe('CIFAR-10 keeps its house split', () => {
  it('the last records of the archive validate, the first --limit records are used', async () => {
    const source: DatasetSource = { data: writeTinyCifar(tempDir()), dataset: 'auto', imageSize: 32 };
    const split = await loadRunSplit(source, settings({ validationCount: 3 }));
    assert.equal(split.method, 'last');
    assert.equal(split.validationDescription, 'validation (last 3 of 10 images)');
    assert.deepEqual(Array.from(split.validation!.labels), [7, 8, 9]); // record r has label r % 10
    const limited = await loadRunSplit(source, settings({ limit: 6, validationCount: 2 }));
    assert.deepEqual([Array.from(limited.train.labels), Array.from(limited.validation!.labels)], [[0, 1, 2, 3], [4, 5]]);
    // Stratified only when asked for; one record per class here leaves nothing to hold out.
    await assert.rejects(loadRunSplit(source, settings({ validationCount: 3, splitMethod: 'stratified' })),
      /A stratified split keeps at least one training image of every class\. Received: validationCount=3, images=10, classes=10\. Hold out at most 0 images/);
    const record = dataRecord(source, settings({ validationCount: 3 }), split, split.train, split.validation);
    assert.equal(record.dataset, 'cifar10');
    assert.equal(record.validation!.files, undefined);
    assert.deepEqual(record.validation!.perClass, Object.fromEntries(CLASS_NAMES.map((name, c) => [name, c >= 7 ? 1 : 0])));
  });

  it('splitForRun without options is the split train makes by default (benchmarks/explain_faithfulness.ts calls it so)', async () => {
    const split = await loadRunSplit({ ...MINI, data: linkedFolder(['cat', 'dog', 'ship']) }, settings({ limit: 100, validationCount: 20 }));
    assert.deepEqual(classCounts(split.validation!).filter((n) => n > 0), [7, 7, 6]);
    const again = splitForRun(split.dataset, 100, 20);
    assert.deepEqual(again.validation!.files, split.validation!.files);
  });
});

describe('what a run records and says about its data', () => {
  it('issue 18 item 6: skipped files are said (how many, which, why) and listed in data.json', async () => {
    const root = tempDir();
    for (const c of ['cat', 'dog']) {
      mkdirSync(path.join(root, c));
      for (let i = 0; i < 6; i++) copyFileSync(path.join(JPG_MINI, c, `000${i}.jpg`), path.join(root, c, `${i}.jpg`));
    }
    const jpeg = readFileSync(path.join(JPG_MINI, 'cat', '0000.jpg'));
    writeFileSync(path.join(root, 'cat', 'torn.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(path.join(root, 'dog', 'notes.txt'), 'not an image\n');
    const source: DatasetSource = { data: root, dataset: 'auto', imageSize: 8 };
    const split = await loadRunSplit(source, settings({ validationCount: 4 }));
    assert.equal(split.dataset.count, 12);
    assert.deepEqual(split.skipped.map((s) => path.relative(root, s.path)), ['cat/torn.jpg', 'dog/notes.txt']);

    const run = RunDir.create(path.join(tempDir(), 'runs'), { data: root });
    const said: string[] = [];
    recordRunData(run, dataRecord(source, settings({ validationCount: 4 }), split, split.train, split.validation), (line) => said.push(line));
    assert.match(said[0], /^ {2}skipped 2 files that could not be read as images \(all listed in data\.json\): .*cat\/torn\.jpg \(cannot be decoded \(.*\)\); .*dog\/notes\.txt \(not an image \(.*unsupported image format.*\)\)$/);
    assert.match(said[1], /^ {2}warning: the validation set has only 4 images \(under 100\), so its accuracy is uncertain by up to ±49\.0 points/);
    assert.equal(said.length, 2, 'both classes are validated: no third notice');
    const saved = readDataRecord(run)!;
    assert.deepEqual(saved.skipped.map((s) => path.relative(root, s.path)), ['cat/torn.jpg', 'dog/notes.txt']);
    assert.deepEqual(saved.split, { method: 'stratified', seed: 0, limit: null, validationCount: 4, valData: null });
    assert.deepEqual(saved.train, { count: 8, perClass: { cat: 4, dog: 4 } });
    assert.equal(saved.validation!.count, 4);
    assert.deepEqual(saved.validation!.files, relative(root, split.validation!.files));
    assert.deepEqual(saved.validation!.files!.map((f) => f.split('/')[0]), ['cat', 'cat', 'dog', 'dog']);
    assert.equal(readDataRecord(RunDir.at(tempDir())), null);
  });

  it('no warning at MIN_VALIDATION_IMAGES images; runs saved before --split-method get their old split back', async () => {
    const split = await loadRunSplit({ ...MINI, data: linkedFolder(['cat', 'dog', 'ship']) }, settings({ validationCount: 100 }));
    assert.deepEqual(dataNotices(dataRecord(MINI, settings({ validationCount: 100 }), split, split.train, split.validation), 'data.json'), []);
    assert.deepEqual(runSplitSettings({ data: 'x', limit: 200, validationCount: null }),
      { limit: 200, validationCount: null, valData: null, splitMethod: 'last', splitSeed: 0 });
    assert.deepEqual(runSplitSettings({ limit: null, validationCount: 5, valData: 'v', splitMethod: 'auto', splitSeed: 9 }),
      { limit: null, validationCount: 5, valData: 'v', splitMethod: 'auto', splitSeed: 9 });
  });
});
