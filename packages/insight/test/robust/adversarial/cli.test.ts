// `insight train --adversarial fgsm-rs --eps 8/255` end to end on the small image folder: the run says what it
// trains, logs val_robust_accuracy per epoch (metrics.jsonl, the progress line), keeps the best robust weights and
// records the guard in run.json; --monitor val_robust_accuracy picks the best checkpoint by it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { hasCheckpoint } from '../../../src/run/checkpoint';
import { RunDir } from '../../../src/run/run_dir';
import { MINI, runMain } from '../../cli/io';

describe('insight train --adversarial', () => {
  it('trains on FGSM-RS examples, logs val_robust_accuracy and monitors it', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-adv-cli-'));
    const { status, stdout, stderr } = await runMain(['train', '--data', MINI, '--adversarial', 'fgsm-rs', '--eps', '8/255', '--epochs', '1',
      '--limit', '160', '--validation-count', '40', '--adv-guard-images', '24', '--batch-size', '32', '--runs-dir', runsDir,
      '--workers', '0', '--progress', 'log', '--no-tensorboard', '--monitor', 'val_robust_accuracy']);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /adversarial training: fgsm-rs eps 0\.0314 \(8\/255\) alpha 0\.0392 \(10\/255\)/);
    assert.match(stdout, /catastrophic-overfitting guard: PGD-10 on 24 validation images after every epoch; a drop of more than 0\.2 below the best or under 0\.5 x the best rolls back and stops/);
    assert.match(stdout, /val_robust_accuracy \d\.\d{4}/);
    const [id] = fs.readdirSync(runsDir).filter((name) => RunDir.looksLikeRun(path.join(runsDir, name)));
    const run = RunDir.open(path.join(runsDir, id));
    const epochs = fs.readFileSync(run.metricsJsonl, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((m) => m.type === 'epoch');
    assert.equal(epochs.length, 1);
    const robust = epochs[0].val_robust_accuracy as number;
    assert.ok(robust >= 0 && robust <= 1 && Number.isInteger(robust * 24), `a share of 24 images: ${robust}`);
    const info = run.readInfo();
    assert.equal(info.status, 'completed');
    assert.deepEqual(info.summary?.robustGuard, { best: robust, bestEpoch: 1, collapse: null });
    assert.ok(hasCheckpoint(run.robustBestCheckpoint), 'the best robust weights are kept for a rollback');
    assert.equal((run.readConfig() as { eps: number }).eps, 8 / 255);
    // the best checkpoint's monitor holds the robust accuracy (with the default val_loss it would hold a loss)
    const best = JSON.parse(fs.readFileSync(path.join(run.bestCheckpoint, 'trainer.json'), 'utf8')) as { callbacks: Record<string, { best: number }> };
    assert.equal(best.callbacks.modelCheckpoint.best, robust);
  });
});
