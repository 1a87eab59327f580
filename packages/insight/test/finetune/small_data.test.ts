// Issue 18 item 2 on real images: a small base trained here on 8 classes of the shared cifar10-jpg-mini folder
// (16x16, a few seconds), then a new 2-class task it has never seen (ship vs frog) with 40+40 training images and
// 10+10 held out. With the old defaults (Glorot head, lr 1e-3, 10 epochs: 30 updates) the head hardly learns (the
// issue saw chance); with today's defaults (zero head, lr 1e-2, the step budget: 167 epochs, 501 updates) it learns
// the task. The training is finetune()'s own plan, run through fit() without the run directory (checkpoint writes).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend } from '../../src/backend';
import { DataLoader, loadImageFolder, splitTrainValidation, type ImageDataset } from '../../src/data';
import { planTraining } from '../../src/finetune/budget';
import { buildFinetuneModel, buildOptionsOf } from '../../src/finetune/build';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { configureMethod } from '../../src/finetune/methods';
import { runInference } from '../../src/eval/inference';
import { accuracy } from '../../src/eval/metrics';
import { argmaxRows } from '../../src/math/top_k';
import { createOptimizer, paramsOf } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { TRAIN_DEFAULTS } from '../../src/train/config';
import { fit, trainableVariables } from '../../src/train/trainer';
import { JPG_MINI } from '../shared_data';

const SIZE = 16;
const NEW = ['frog', 'ship'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-small-data-'));
let base: tfl.LayersModel;
let train: ImageDataset;
let heldOut: ImageDataset;

/** conv(8)-pool-conv(16)-pool-dense(32, relu) features → dense(8) logits, seeded. */
function smallCnn(classes: number): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const input = tfl.input({ shape: [SIZE, SIZE, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2', kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'p2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 32, activation: 'relu', name: 'features', kernelInitializer: init(3) }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: classes, name: 'logits', kernelInitializer: init(4) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'small_cnn' });
}

function linkClasses(dir: string, classes: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const c of classes) fs.symlinkSync(path.join(JPG_MINI, c), path.join(dir, c));
  return dir;
}

before(async () => {
  await initBackend();
  const others = fs.readdirSync(JPG_MINI).filter((c) => !NEW.includes(c)).sort();
  const baseData = await loadImageFolder(linkClasses(path.join(tmp, 'base'), others), { height: SIZE, width: SIZE });
  base = smallCnn(others.length);
  const loader = new DataLoader(baseData, { batchSize: 32, seed: 1, workers: 0 });
  const optimizer = createOptimizer('adam', paramsOf(trainableVariables(base)), TRAIN_DEFAULTS);
  await fit(base, loader, { epochs: 8, optimizer, schedule: new ConstantSchedule(3e-3), seed: 1 });
  await loader.close();
  optimizer.dispose();
  const task = await loadImageFolder(linkClasses(path.join(tmp, 'new'), NEW), { height: SIZE, width: SIZE });
  ({ train, validation: heldOut } = splitTrainValidation(task, { validationCount: 20, stratify: true, shuffle: true, seed: 3 }));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Fine-tunes a new head on the base as finetune() plans it for `options` (no run directory); held-out accuracy. */
async function headAccuracy(options: Record<string, unknown>): Promise<{ accuracy: number; updates: number; firstLoss: number }> {
  const config = resolveFinetuneConfig({ base: 'in-memory', method: 'head', seed: 1, ...options });
  const ft = buildFinetuneModel(base, buildOptionsOf(config, NEW, []));
  const params = configureMethod(ft, config.method, config.baseLrFactor);
  const loader = new DataLoader(train, { batchSize: config.batchSize, seed: config.seed, workers: 0 });
  const plan = planTraining(config, loader.batchesPerEpoch);
  const optimizer = createOptimizer(config.optimizer, params, { ...TRAIN_DEFAULTS, weightDecay: config.weightDecay });
  const state = await fit(ft.model, loader, { epochs: plan.epochs, optimizer, schedule: plan.schedule, seed: config.seed });
  await loader.close();
  optimizer.dispose();
  const evaluation = new DataLoader(heldOut, { batchSize: 64, shuffle: false, workers: 0 });
  const result = await runInference(ft.model, evaluation);
  await evaluation.close();
  ft.headLayers.forEach((layer) => layer.dispose());
  return { accuracy: accuracy(result.labels, argmaxRows(result.probabilities, 2)), updates: state.step, firstLoss: state.history[0].loss };
}

describe('fine-tuning defaults on 40+40 real images', () => {
  it('the split: 40 + 40 training images, 10 + 10 held out', () => {
    assert.equal(train.count, 80);
    assert.deepEqual([0, 1].map((c) => heldOut.labels.filter((l) => l === c).length), [10, 10]);
  });

  it('old defaults (Glorot head, lr 1e-3, 10 epochs) hardly learn; the defaults learn the task', async () => {
    const old = await headAccuracy({ headInit: 'glorot', lr: 1e-3, epochs: 10 });
    const now = await headAccuracy({});
    assert.equal(old.updates, 30);
    assert.equal(now.updates, 501);
    // Measured (seeded, deterministic): 70% with the old defaults (14 of 20), 100% with the defaults.
    assert.ok(now.accuracy >= 0.9, `defaults: ${now.accuracy}`);
    assert.ok(now.accuracy - old.accuracy >= 0.2, `old defaults: ${old.accuracy}, defaults: ${now.accuracy}`);
    assert.ok(Math.abs(now.firstLoss - Math.log(2)) < 0.05, `a zero head starts at ln 2: ${now.firstLoss}`);
  });
});
