// A launch's run across restarts, beyond the 2-process resume (elastic_resume.test.ts): a one-worker launch
// (WORLD_SIZE=1 with INSIGHT_LAUNCH_ID, no group to join) marks its run and resumes it after a restart; a restart
// after the run was completed trains nothing and leaves the run as it was; and a run session, once complete, keeps
// status 'completed' whatever fails after it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DataLoader } from '../../../src/data';
import { runInference } from '../../../src/eval/inference';
import { computeMetrics } from '../../../src/eval/metrics';
import { RunSession } from '../../../src/train/session';
import { CIFAR_ARCHIVE } from '../../shared_data';
import { expectOk, maxDifference, RANK_MAIN, readResult, startNode, tmp, type Finished } from '../ranks';
import { tinyDataset, tinyModel } from '../tiny';

describe('a one-worker launch (WORLD_SIZE=1, INSIGHT_LAUNCH_ID)', () => {
  it('resumes its run after a restart, and a restart after it completed trains nothing', async () => {
    // Plain SGD with momentum, 9 updates an epoch, 3 epochs; the worker dies at update 14 (epoch 2), after epoch 1's checkpoint.
    const runsDir = tmp('insight-solo-runs-');
    const files = tmp('insight-solo-out-');
    const config = JSON.stringify({
      data: CIFAR_ARCHIVE, limit: 301, validationCount: 40, epochs: 3, batchSize: 32, seed: 7, workers: 0, tensorboard: false,
      progress: 'log', optimizer: 'sgd', lr: 0.01, momentum: 0.5, runsDir,
    });
    const worker = (restart: number, out: string, extra: Record<string, string> = {}): Promise<Finished> => startNode([RANK_MAIN, config, path.join(files, out)], {
      WORLD_SIZE: '1', RANK: '0', LOCAL_RANK: '0', INSIGHT_LAUNCH_ID: 'solo-launch', TORCHELASTIC_RESTART_COUNT: String(restart), ...extra,
    }).done;

    const first = await worker(0, 'first.json', { KILL_AT_STEP: '14', KILL_RANK: '0' });
    assert.equal(first.signal, 'SIGKILL');
    const [runName] = fs.readdirSync(runsDir);
    const run = path.join(runsDir, runName);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')).summary.launchId, 'solo-launch');

    const second = await worker(1, 'second.json');
    expectOk(second, 'the restarted worker');
    assert.match(second.stdout, new RegExp(`^Resuming ${escape(run)} at epoch 2$`, 'm'));
    assert.deepEqual(fs.readdirSync(runsDir), [runName]);
    const completed = fs.readFileSync(path.join(run, 'run.json'), 'utf8');
    assert.equal(JSON.parse(completed).status, 'completed');
    assert.equal(JSON.parse(completed).summary.launchId, 'solo-launch');
    const resumed = readResult(path.join(files, 'second.json'));
    assert.equal(resumed.state.step, 27);

    // Restarted once more after it completed (as when a peer fails after rank 0's end): the run is reported, not retrained.
    const third = await worker(2, 'third.json');
    expectOk(third, 'the worker restarted after completion');
    assert.match(third.stdout, new RegExp(`^Run ${escape(run)} of this launch was completed before the restart \\(epoch 3, step 27\\): nothing to train\\.$`, 'm'));
    assert.doesNotMatch(third.stdout, /^Resuming |^Run \S+$/m, 'no run started or resumed');
    assert.deepEqual(fs.readdirSync(runsDir), [runName]);
    assert.equal(fs.readFileSync(path.join(run, 'run.json'), 'utf8'), completed, 'run.json untouched');
    const again = readResult(path.join(files, 'third.json')) as ReturnType<typeof readResult> & { report: { accuracy: number; count: number } };
    assert.equal(again.state.step, 27);
    assert.equal(maxDifference(again.weights, resumed.weights), 0);
    assert.equal(again.report.count, 40);
    assert.equal(again.report.accuracy, JSON.parse(completed).summary.report.accuracy);
  });
});

describe('RunSession after complete()', () => {
  it('keeps status completed (no error) when something fails after it', async () => {
    const session = await RunSession.start({ backend: 'auto', progress: 'none' });
    const run = session.create(tmp('insight-complete-'), { any: 'config' });
    const ds = tinyDataset(12);
    const model = tinyModel(3);
    const loader = new DataLoader(ds, { batchSize: 8, shuffle: false, workers: 0 });
    await session.report(computeMetrics(await runInference(model, loader), ds.classNames, [1]), 'all 12 images');
    await session.complete(model);
    session.fail(new Error('a collective after the end failed'));
    const info = run.readInfo();
    assert.equal(info.status, 'completed');
    assert.equal(info.error, undefined);
    model.dispose();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
