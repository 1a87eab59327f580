// A completed run extended with `insight train --resume <run> --epochs <more>` (Keras's initial_epoch): it trains on
// from its last checkpoint to the new total with the schedule defined for that total — so its later epochs run at
// the learning rates of a run started with that total — records the new target in config.json and completes again.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ARCHIVE, runBin } from './io';

// 96 training images in batches of 32: 3 updates an epoch; cosine decays to 0 at the end of the given epochs.
const FLAGS = ['--data', ARCHIVE, '--limit', '128', '--validation-count', '32', '--batch-size', '32', '--schedule', 'cosine',
  '--lr', '0.002', '--seed', '3', '--no-tensorboard'];

const onlyRun = (runsDir: string) => path.join(runsDir, fs.readdirSync(runsDir)[0]);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const epochRecords = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((line) => JSON.parse(line)).filter((record) => record.type === 'epoch');

describe('extending a completed run', () => {
  it('--resume <completed run> --epochs 2 trains epoch 2 at the 2-epoch schedule and completes; no more epochs is refused', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-extend-'));
    const first = runBin(['train', ...FLAGS, '--epochs', '1', '--runs-dir', path.join(root, 'short')]);
    assert.equal(first.status, 0, first.stderr);
    const run = onlyRun(path.join(root, 'short'));
    assert.equal(readJson(path.join(run, 'run.json')).status, 'completed');

    const same = runBin(['train', '--resume', run, '--epochs', '1']);
    assert.equal(same.status, 5);
    assert.match(same.stderr, /^Error INSIGHT_E_RESUME: A completed run can be resumed only to train more epochs than it was given\. Received: run=".*", status="completed", epochs=1, runEpochs=1\. Pass --epochs with more than 1 to extend it/);

    const extended = runBin(['train', '--resume', run, '--epochs', '2']);
    assert.equal(extended.status, 0, extended.stderr);
    assert.match(extended.stdout, /^Resuming .* at epoch 2\n/);
    assert.equal(readJson(path.join(run, 'run.json')).status, 'completed');
    assert.equal(readJson(path.join(run, 'config.json')).epochs, 2, 'the run records its new target');
    assert.equal(readJson(path.join(run, 'run.json')).summary.epochs, 2);

    const straight = runBin(['train', ...FLAGS, '--epochs', '2', '--runs-dir', path.join(root, 'long')]);
    assert.equal(straight.status, 0, straight.stderr);
    const [short1, short2] = epochRecords(run);
    const [long1, long2] = epochRecords(onlyRun(path.join(root, 'long')));
    assert.deepEqual([short1.epoch, short1.step, short2.epoch, short2.step], [1, 3, 2, 6]);
    assert.equal(short1.lr, 0.002 * 0.5 * (1 + Math.cos(Math.PI * (2 / 3))), 'epoch 1 ran under the 1-epoch cosine');
    assert.notEqual(short1.lr, long1.lr);
    assert.equal(short2.lr, long2.lr, 'epoch 2 runs at the learning rate of a 2-epoch run');
    assert.equal(short2.lr, 0.002 * 0.5 * (1 + Math.cos(Math.PI * (5 / 6))));
    fs.rmSync(root, { recursive: true, force: true });
  });
});
