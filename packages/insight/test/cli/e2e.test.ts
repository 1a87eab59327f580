// The workflow end to end through the real `insight` binary: a short training run on the shared CIFAR-10
// archive in a temporary runs directory, then evaluate and predict on that run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { confusionImageSize, confusionTitle } from '../../src/eval/confusion_png';
import { ARCHIVE, MINI, runBin } from './io';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-e2e-'));
let runDir: string;
let trainOutput: string;

before(() => {
  const result = runBin(['train', '--data', ARCHIVE, '--limit', '256', '--epochs', '1', '--runs-dir', 'runs'], { cwd });
  assert.equal(result.status, 0, result.stderr);
  trainOutput = result.stdout;
  const runs = fs.readdirSync(path.join(cwd, 'runs'));
  assert.equal(runs.length, 1);
  runDir = path.join(cwd, 'runs', runs[0]);
});

describe('insight train --limit 256 --epochs 1', () => {
  it('prints the run, the epoch line and the report', () => {
    assert.match(trainOutput, /^Run runs\/\d{8}-\d{6}-[0-9a-f]{4}\n/);
    assert.match(trainOutput, /model seed-cnn \(122,570 parameters\)/);
    assert.match(trainOutput, /data: 230 training images, validation \(last 26 of 256 images\), 10 classes/);
    assert.match(trainOutput, /\nepoch 1\/1 - 4\/4 batches - \d+:\d\d - loss \d\.\d{4} - accuracy \d\.\d{4} - val_loss \d\.\d{4} - val_accuracy \d\.\d{4} - lr 0\.001000 - \d+ img\/s\n/);
    assert.match(trainOutput, /Report on validation \(last 26 of 256 images\): loss \d\.\d{4} - accuracy \d\.\d{4} - top-5 \d\.\d{4}/);
  });

  it('writes the complete run directory and marks it completed', () => {
    // The TensorBoard log (on by default) adds its event file and the sample-prediction grid.
    assert.deepEqual(fs.readdirSync(runDir).map((name) => name.replace(/^events\.out\.tfevents\..*$/, 'events.out.tfevents.*')).sort(),
      ['checkpoints', 'config.json', 'data.json', 'events.out.tfevents.*', 'metrics.jsonl', 'model', 'predictions.json', 'predictions.png', 'report', 'run.json']);
    assert.deepEqual(fs.readdirSync(path.join(runDir, 'checkpoints')).sort(), ['best', 'last']);
    for (const checkpoint of ['best', 'last']) {
      assert.deepEqual(fs.readdirSync(path.join(runDir, 'checkpoints', checkpoint)).sort(),
        ['model.json', 'optimizer.bin', 'optimizer.json', 'trainer.json', 'weights.bin']);
    }
    assert.deepEqual(fs.readdirSync(path.join(runDir, 'model')).sort(), ['model.json', 'weights.bin']);
    assert.deepEqual(fs.readdirSync(path.join(runDir, 'report')).sort(), ['confusion.png', 'confusion.txt', 'metrics.json', 'per_class.txt', 'reliability.png']);
    const run = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.equal(run.status, 'completed');
    assert.equal(run.summary.epochs, 1);
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    assert.equal(config.model, 'seed-cnn');
    assert.equal(config.optimizer, 'adam');
    assert.equal(config.batchSize, 64);
    const metrics = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].type, 'epoch');
    assert.equal(metrics[0].step, 4);
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'imagesPerSecond']) assert.equal(typeof metrics[0][key], 'number', key);
  });

  it('the model is self-describing and the report is consistent', async () => {
    const modelJson = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'model.json'), 'utf8'));
    assert.deepEqual(modelJson.userDefinedMetadata.insight.classNames, CLASSES);
    assert.deepEqual(modelJson.userDefinedMetadata.insight.inputShape, [32, 32, 3]);
    assert.deepEqual(modelJson.userDefinedMetadata.insight.normalization, { kind: 'scale' });
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report', 'metrics.json'), 'utf8'));
    assert.equal(report.count, 26);
    assert.equal(report.confusion.flat().reduce((a: number, b: number) => a + b, 0), 26);
    const meta = await sharp(path.join(runDir, 'report', 'confusion.png')).metadata();
    // The picture widens for its title (the split and the image count).
    assert.deepEqual({ width: meta.width, height: meta.height }, confusionImageSize(10, CLASSES, confusionTitle(report.split, report.count)));
  });
});

describe('insight evaluate and predict on that run', () => {
  it('evaluate <run> reproduces the run\'s report on its own validation split, and --out writes one', () => {
    const out = path.join(cwd, 'eval-report');
    const result = runBin(['evaluate', runDir, '--out', out], { cwd });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /on validation \(last 26 of 256 images\)/);
    assert.match(result.stdout, /class\s+precision\s+recall\s+f1\s+support\n/);
    assert.match(result.stdout, /Confusion matrix \(rows: true class, columns: predicted class\)\ntrue \\ predicted {2}0 {2}1 {2}2/);
    const fresh = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    const original = JSON.parse(fs.readFileSync(path.join(runDir, 'report', 'metrics.json'), 'utf8'));
    assert.deepEqual(fresh.confusion, original.confusion);
    assert.ok(Math.abs(fresh.loss - original.loss) < 1e-5);
  });

  it('predict prints the top-3 classes with probabilities for each image', () => {
    const images = ['cat', 'ship'].map((c) => path.join(MINI, c, fs.readdirSync(path.join(MINI, c)).sort()[0]));
    const result = runBin(['predict', runDir, ...images, '--top-k', '3'], { cwd });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0], /^image\s+#1\s+#2\s+#3$/);
    assert.equal(lines.length, 4);
    for (const [i, image] of images.entries()) {
      assert.ok(lines[i + 2].startsWith(image), lines[i + 2]);
      const probs = [...lines[i + 2].matchAll(/(\w+) (\d+\.\d)%/g)];
      assert.equal(probs.length, 3);
      assert.ok(probs.every(([, name]) => CLASSES.includes(name)));
    }
    const json = runBin(['predict', runDir, images[0], '--json'], { cwd });
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.top.length, 3);
    assert.ok(Math.abs(parsed.top.reduce((s: number, t: { probability: number }) => s + t.probability, 0)) <= 1);
  });
});
