// The whole workflow on real images (the shared cifar10-jpg-mini folder, resized to a tiny base's 8x8 input):
// finetune() and `insight finetune` write a completed run whose model `evaluate` and `predict` use unchanged, the
// forgetting report compares the base's own head before and after, and a base without Insight metadata (as
// tfjs-converter writes it) is accepted with a clear notice.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { evaluate } from '../../src/eval/evaluate';
import { predict } from '../../src/eval/predict';
import { loadBaseModel } from '../../src/finetune/base_model';
import { finetune } from '../../src/finetune/finetune';
import { setInsightMetadata } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { runMain } from '../cli/io';
import { JPG_MINI } from '../shared_data';
import { tinyBase } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-finetune-'));
const newTask = path.join(tmp, 'new-task');
const baseTask = path.join(tmp, 'base-task');
const baseDir = path.join(tmp, 'base');
const bareDir = path.join(tmp, 'bare');

function linkClasses(dir: string, classes: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const c of classes) fs.symlinkSync(path.join(JPG_MINI, c), path.join(dir, c));
}

before(async () => {
  await initBackend();
  linkClasses(newTask, ['airplane', 'automobile']);
  linkClasses(baseTask, ['cat', 'deer', 'dog']);
  const base = tinyBase(7);
  setInsightMetadata(base, {
    formatVersion: 1, architecture: 'tiny', architectureOptions: {}, inputShape: [8, 8, 3], classNames: ['cat', 'deer', 'dog'], normalization: { kind: 'scale' },
  });
  await saveModel(base, baseDir);
  const bare = tinyBase(8, { metadata: false });
  await saveModel(bare, bareDir);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const quick = { epochs: 2, batchSize: 16, workers: 0, progress: 'none', runsDir: path.join(tmp, 'runs') } as const;

describe('finetune workflow', () => {
  it('finetune(): a completed run; the saved (merged LoRA) model evaluates and predicts like the returned one', async () => {
    const result = await finetune({
      ...quick, base: baseDir, data: newTask, method: 'lora', rank: 2, validationCount: 20, forgettingData: baseTask, forgettingClasses: 'cat,deer,dog',
    });
    const info = JSON.parse(fs.readFileSync(path.join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(info.status, 'completed');
    assert.equal(info.summary.method, 'lora');
    assert.ok(result.trainableParams > 0 && result.trainableShare < 0.5);
    for (const file of ['config.json', 'metrics.jsonl', 'model/model.json', 'report/metrics.json', 'report/forgetting.json']) {
      assert.ok(fs.existsSync(path.join(result.runDir, file)), file);
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(RunDir.at(result.runDir).forgettingJson, 'utf8')), result.forgetting, 'RunDir names the forgetting report');
    // Held-out: image folders split stratified, the same share (20 of 100) of each class: 10 + 10.
    assert.equal(result.report.count, 20);
    assert.deepEqual(result.report.confusion.map((row) => row.reduce((a, b) => a + b, 0)), [10, 10]);
    // The forgetting report: before = the base itself on the base task's held-out images.
    assert.ok(result.forgetting !== null && result.forgetting.count === 20); // 20 of 150 images: 7 + 7 + 6 (largest remainder)
    assert.ok(Math.abs(result.forgetting.drop - (result.forgetting.before - result.forgetting.after)) < 1e-12);

    const saved = await loadModel(result.runDir);
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 5);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(saved.predict(x) as tf.Tensor, result.model.predict(x) as tf.Tensor))).dataSync()[0]);
    assert.equal(diff, 0);
    assert.deepEqual(saved.layers.filter((l) => l.getClassName() === 'InsightLora'), [], 'model/ is merged: plain layers only');

    const evaluation = await evaluate({ model: path.join(result.runDir, 'model'), data: newTask, split: 'all', workers: 0 });
    assert.deepEqual(evaluation.metrics.classNames, ['airplane', 'automobile']);
    assert.equal(evaluation.metrics.count, 100);
    const [prediction] = await predict({ model: result.runDir, images: [path.join(JPG_MINI, 'airplane', '0000.jpg')], topK: 2 });
    assert.deepEqual(prediction.top.map((t) => t.className).sort(), ['airplane', 'automobile']);
    tf.dispose(x);
    saved.dispose();
    result.model.dispose();
  });

  it('insight finetune: flags → run; prints the trainable parameter count and share', async () => {
    const { status, stdout, stderr } = await runMain(['finetune', '--base', baseDir, '--data', newTask, '--method', 'adapter', '--adapter-bottleneck', '2',
      '--epochs', '1', '--workers', '0', '--progress', 'log', '--runs-dir', path.join(tmp, 'runs'), '--validation-count', '20']);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /method adapter: [\d,]+ of [\d,]+ parameters train \(\d+(\.\d+)?%\)/);
    assert.match(stdout, /Model: .*model/);
  });

  it('a base without Insight metadata: input shape from the model, scale assumed, with a notice', async () => {
    const base = await loadBaseModel(bareDir);
    assert.equal(base.described, false);
    assert.deepEqual(base.metadata.inputShape, [8, 8, 3]);
    assert.deepEqual(base.metadata.normalization, { kind: 'scale' });
    assert.match(base.notices.join('\n'), /has no Insight metadata: input shape 8x8x3 \(from the model\), normalization scale \(x\/255\), assumed/);
    base.model.dispose();
    const lines: string[] = [];
    const out = { isTTY: false, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const result = await finetune({ ...quick, progress: 'log', epochs: 1, base: bareDir, data: newTask, method: 'head', validationCount: 20 }, { out });
    assert.match(lines.join(''), /no Insight metadata/);
    result.model.dispose();
  });
});
