// A data-parallel group restarted by the launcher (TORCHELASTIC_RESTART_COUNT > 0, the same INSIGHT_LAUNCH_ID) after a
// rank was killed: rank 0 finds the launch's run, resumes it from its last checkpoint and broadcasts weights,
// optimizer state and position, and the finished run has the weights of an uninterrupted one. Restarted once more
// after it completed, the group trains nothing and leaves the run as it was.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { expectOk, freeLocalPort, maxDifference, MOMENTUM_RECIPE, RANK_MAIN, rankEnv, readResult, startNode, tmp, type Finished } from '../ranks';

describe('data-parallel train restarted after a lost rank', () => {
  it('resumes the launch\'s run from its last checkpoint and ends with the weights of an uninterrupted run', async () => {
    const recipe = MOMENTUM_RECIPE;
    const runsDir = tmp('insight-dp-elastic-');
    const files = tmp('insight-dp-elastic-out-');
    const config = JSON.stringify({ ...recipe, runsDir });
    const group = async (restart: number, extra: Record<string, string>): Promise<Finished[]> => {
      const port = await freeLocalPort();
      const ranks = [0, 1].map((rank) => startNode([RANK_MAIN, config, path.join(files, `rank${rank}.json`)], rankEnv(rank, 2, port, {
        INSIGHT_DIST_TIMEOUT_MS: '30000', INSIGHT_LAUNCH_ID: 'test-launch-1', TORCHELASTIC_RESTART_COUNT: String(restart), ...extra,
      })));
      return Promise.all(ranks.map((r) => r.done));
    };

    // First start: rank 1 dies at update 14 (in epoch 2); the last checkpoint is epoch 1's (update 9).
    const [first0, first1] = await group(0, { KILL_AT_STEP: '14' });
    assert.equal(first1.signal, 'SIGKILL');
    assert.equal(first0.code, 1);
    assert.match(first0.stderr, /INSIGHT_E_DISTRIBUTED/);
    const [runName] = fs.readdirSync(runsDir);
    const run = path.join(runsDir, runName);
    const failed = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
    assert.equal(failed.status, 'failed');
    assert.equal(failed.summary.launchId, 'test-launch-1');

    // The restart: the same run, from epoch 2.
    const [second0, second1] = await group(1, {});
    expectOk(second0, 'rank 0 (restart)');
    expectOk(second1, 'rank 1 (restart)');
    assert.match(second0.stdout, new RegExp(`^Resuming ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at epoch 2$`, 'm'));
    assert.equal(second1.stdout, '');
    assert.deepEqual(fs.readdirSync(runsDir), [runName]);
    const completed = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
    assert.equal(completed.status, 'completed');
    assert.equal(completed.summary.launchId, 'test-launch-1');
    const [resumed0, resumed1] = [readResult(path.join(files, 'rank0.json')), readResult(path.join(files, 'rank1.json'))];
    assert.equal(resumed0.state.step, 27);
    assert.equal(resumed1.state.step, 27);
    assert.equal(maxDifference(resumed1.weights, resumed0.weights), 0);

    // A restart after rank 0 completed the run (a peer failing after the end): both ranks end at once, nothing retrained.
    const runJson = fs.readFileSync(path.join(run, 'run.json'), 'utf8');
    const [third0, third1] = await group(2, {});
    expectOk(third0, 'rank 0 (restart after completion)');
    expectOk(third1, 'rank 1 (restart after completion)');
    assert.match(third0.stdout, /^Run .* of this launch was completed before the restart \(epoch 3, step 27\): nothing to train\.$/m);
    assert.equal(third1.stdout, '');
    assert.deepEqual(fs.readdirSync(runsDir), [runName]);
    assert.equal(fs.readFileSync(path.join(run, 'run.json'), 'utf8'), runJson);
    const [again0, again1] = [readResult(path.join(files, 'rank0.json')), readResult(path.join(files, 'rank1.json'))];
    assert.deepEqual([again0.state.step, again1.state.step, again1.runDir], [27, 27, run]);
    assert.equal(maxDifference(again0.weights, resumed0.weights), 0);
    assert.equal(maxDifference(again1.weights, resumed0.weights), 0);

    // One process, never interrupted.
    const single = startNode([RANK_MAIN, JSON.stringify({ ...recipe, runsDir: tmp('insight-dp-elastic-one-') }), path.join(files, 'single.json')], {});
    expectOk(await single.done, 'the single process');
    const difference = maxDifference(resumed0.weights, readResult(path.join(files, 'single.json')).weights);
    assert.ok(difference < 1e-5, `restarted 2-process run vs uninterrupted single process: max |dw| = ${difference}`);
  });
});
