// The held-out images of a fine-tuning run (issue 18 item 1): split as train splits (a seeded share of every class
// of an image folder, before --classes), or a separate --val-data set; recorded in data.json; and found again by
// `evaluate <finetune run>` without --data, which scored other images before (it re-split the data its own way).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import { classCounts } from '../../src/data/dataset';
import { evaluate } from '../../src/eval/evaluate';
import { loadBaseModel } from '../../src/finetune/base_model';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { prepareFinetuneData } from '../../src/finetune/data';
import { finetune } from '../../src/finetune/finetune';
import { recordRunData } from '../../src/run/dataset_source';
import { saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { JPG_MINI } from '../shared_data';
import { tinyBase } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-finetune-split-'));
const baseDir = path.join(tmp, 'base');
const data = path.join(tmp, 'data');

/** root/<class>/ with the first `n` mini-set images of each class (copies). */
function folder(root: string, classes: string[], n: number, from = 0): string {
  for (const c of classes) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (let i = from; i < from + n; i++) fs.copyFileSync(path.join(JPG_MINI, c, `${String(i).padStart(4, '0')}.jpg`), path.join(root, c, `${i}.jpg`));
  }
  return root;
}

before(async () => {
  await initBackend();
  await saveModel(tinyBase(3), baseDir);
  folder(data, ['cat', 'dog', 'ship'], 12);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('prepareFinetuneData', () => {
  it('holds out the same share of every class before --classes, seeded by --split-seed', async () => {
    const base = await loadBaseModel(baseDir);
    const config = resolveFinetuneConfig({ base: baseDir, data, classes: 'ship,cat', validationCount: 9, splitSeed: 2 });
    const prepared = await prepareFinetuneData(config, base);
    assert.deepEqual(prepared.classNames, ['ship', 'cat']);
    assert.deepEqual(classCounts(prepared.heldOut), [3, 3]);
    assert.deepEqual(classCounts(prepared.train), [9, 9]);
    assert.equal(prepared.heldOutDescription, 'held-out (stratified 9 of 36 images, split seed 2, classes ship,cat: 6 images)');
    assert.deepEqual(prepared.record.split, { method: 'stratified', seed: 2, limit: null, validationCount: 6, valData: null });
    assert.deepEqual(prepared.record.validation!.perClass, { ship: 3, cat: 3 });
    assert.deepEqual(prepared.record.validation!.files!.map((f) => f.split('/')[0]), ['cat', 'cat', 'cat', 'ship', 'ship', 'ship']);
    const other = await prepareFinetuneData({ ...config, splitSeed: 3 }, base);
    assert.notDeepEqual(other.record.validation!.files, prepared.record.validation!.files);
    base.model.dispose();
  });

  it('--val-data: every --data image trains; held-out images come from the other folder, matched by name', async () => {
    const base = await loadBaseModel(baseDir);
    const val = folder(path.join(tmp, 'val'), ['dog', 'cat'], 4, 20);
    const prepared = await prepareFinetuneData(resolveFinetuneConfig({ base: baseDir, data, valData: val, classes: 'cat,dog' }), base);
    assert.deepEqual(classCounts(prepared.train), [12, 12]);
    assert.deepEqual(classCounts(prepared.heldOut), [4, 4]);
    assert.equal(prepared.heldOutDescription, `held-out (8 images of ${val}, classes cat,dog: 8 images)`);
    assert.deepEqual(prepared.record.validation!.files!.slice(0, 2), ['cat/20.jpg', 'cat/21.jpg']);
    base.model.dispose();
  });
});

describe('evaluate <finetune run> without --data', () => {
  it('issue 18: scores exactly the run\'s held-out images of its classes and reproduces its report', async () => {
    const result = await finetune({
      base: baseDir, data, classes: 'ship,cat', validationCount: 9, splitSeed: 2, method: 'head', epochs: 1, batchSize: 8,
      workers: 0, progress: 'none', runsDir: path.join(tmp, 'runs'),
    });
    result.model.dispose();
    const report = JSON.parse(fs.readFileSync(RunDir.at(result.runDir).reportMetricsJson, 'utf8'));
    assert.equal(report.split, 'held-out (stratified 9 of 36 images, split seed 2, classes ship,cat: 6 images)');
    const { metrics, split } = await evaluate({ model: result.runDir, workers: 0 });
    assert.equal(split, report.split);
    assert.deepEqual(metrics.classNames, ['ship', 'cat']);
    assert.deepEqual(metrics.confusion, report.confusion);
    assert.ok(Math.abs(metrics.loss - report.loss) < 1e-5, `${metrics.loss} vs ${report.loss}`);
    const trainPart = await evaluate({ model: result.runDir, split: 'train', workers: 0 });
    assert.equal(trainPart.metrics.count, 18);

    // With the run's data.json (what the run writes when it starts), its recorded files: the same images.
    const run = RunDir.open(result.runDir);
    const base = await loadBaseModel(baseDir);
    const prepared = await prepareFinetuneData(resolveFinetuneConfig(run.readConfig()), base);
    base.model.dispose();
    recordRunData(run, prepared.record, () => undefined);
    const recorded = await evaluate({ model: result.runDir, workers: 0 });
    assert.equal(recorded.split, report.split);
    assert.deepEqual(recorded.metrics.confusion, report.confusion);
  });
});
