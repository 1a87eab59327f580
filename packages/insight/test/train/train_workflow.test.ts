// train(config) as a library call on the image-folder data (cifar10-jpg-mini): resnet, meanstd normalization,
// augmentation, SGD + one-cycle, gradient accumulation, reduce-on-plateau and early stopping — then evaluate and
// predict on the run it made.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { evaluate, predict, train } from '../../src/index';
import { InsightError } from '../../src/errors';
import { RunDir } from '../../src/run/run_dir';
import { resolveTrainConfig } from '../../src/train/config';
import { JPG_MINI } from '../shared_data';

const MINI = JPG_MINI;

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('train(config)', () => {
  it('trains a small resnet on an image folder and leaves a completed, self-describing run', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-workflow-'));
    const out = sink();
    const result = await train({
      data: MINI, limit: 200, validationCount: 40, model: 'resnet', depth: 8, width: 4, normalization: 'meanstd',
      augment: ['crop', 'flip', 'cutout'], optimizer: 'sgd', nesterov: true, lr: 0.05, schedule: 'onecycle', batchSize: 16,
      gradAccumulation: 2, epochs: 2, reducePatience: 1, earlyStoppingPatience: 5, runsDir, workers: 0, seed: 3,
    }, { out });
    result.model.dispose();
    assert.equal(result.state.epoch, 2);
    assert.equal(result.state.step, 2 * Math.ceil(Math.ceil(160 / 16) / 2));
    assert.match(out.text, /model resnet \(\d[\d,]* parameters\)/);
    assert.match(out.text, /sgd lr 0\.05 \(onecycle\), batch 16 x 2 accumulated, 2 epochs, seed 3/);
    const run = JSON.parse(fs.readFileSync(path.join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(run.status, 'completed');
    const meta = JSON.parse(fs.readFileSync(path.join(result.runDir, 'model', 'model.json'), 'utf8')).userDefinedMetadata.insight;
    assert.equal(meta.architecture, 'resnet');
    assert.deepEqual(meta.architectureOptions, { dropout: 0, depth: 8, width: 4 });
    assert.equal(meta.normalization.kind, 'meanstd');
    assert.ok(meta.normalization.mean.every((m: number) => m > 0.2 && m < 0.8));
    assert.equal(meta.classNames.length, 10);
    assert.equal(result.report.count, 40);

    const evaluation = await evaluate({ model: result.runDir, workers: 0 });
    assert.equal(evaluation.split, 'validation (stratified 40 of 200 images, split seed 0)');
    assert.deepEqual(evaluation.metrics.confusion, result.report.confusion);
    await assert.rejects(evaluate({ model: result.runDir, split: 'test' }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_DATA' && /An image folder has a single split/.test(e.message));

    const [first] = await predict({ model: result.runDir, images: [path.join(MINI, 'frog')], topK: 2 });
    assert.equal(first.top.length, 2);
  });

  it('a run stopped before its first checkpoint cannot be resumed, and says so', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-nockpt-'));
    const run = RunDir.create(runsDir, resolveTrainConfig({ data: MINI, limit: 60, validationCount: 10, workers: 0 }));
    await assert.rejects(train({}, { resume: run.dir, out: sink() }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RESUME' &&
      e.message === `Resuming needs a complete checkpoint directory. Received: checkpoint="${run.lastCheckpoint}". ` +
        'The run was stopped before its first epoch ended: start it again instead of resuming.');
    assert.equal(run.readInfo().status, 'running');
  });

  it('rejects invalid config before touching data or the runs directory', async () => {
    const runsDir = path.join(os.tmpdir(), `insight-never-${process.pid}`);
    await assert.rejects(train({ epochs: 0, runsDir }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG');
    await assert.rejects(train({ optimiser: 'adam' } as Record<string, unknown>), (e: unknown) =>
      e instanceof InsightError && /Received: optimiser="adam"\. Did you mean 'optimizer'\?/.test(e.message));
    assert.equal(fs.existsSync(runsDir), false);
  });
});
