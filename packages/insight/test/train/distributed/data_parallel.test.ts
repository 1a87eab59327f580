// Data-parallel `insight train` on 2 processes (the group made as `insight launch` makes it: torchrun's variables,
// a local rendezvous): the same weights as one process with the same global batch, rank 0 alone writes and prints,
// and the batch must split over the ranks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { CIFAR_ARCHIVE } from '../../shared_data';
import { expectOk, freeLocalPort, INSIGHT_BIN, maxDifference, RANK_MAIN, rankEnv, readResult, startNode, tmp } from '../ranks';

describe('data-parallel train (WORLD_SIZE=2)', () => {
  // 261 training images in batches of 32: 8 full batches (16 images a rank) and a last of 5, cut 2 / 3.
  // Crop and flip augmentation, so each rank's slice must get the augmentation it has in the whole batch. Plain SGD:
  // its updates are linear in the gradients, so the comparison with one batch of 32 is not blurred (Adam divides by
  // the gradients' own size, so float rounding of near-zero gradients — the sum over 32 images vs 2 x 16 — grows to
  // ~2e-3 in 18 steps, as it does between one process's batch 32 and 2 x 16 accumulated: adam_accumulation.test.ts).
  const recipe = {
    data: CIFAR_ARCHIVE, limit: 301, validationCount: 40, epochs: 2, batchSize: 32, augment: ['crop', 'flip'],
    seed: 7, workers: 0, tensorboard: false, progress: 'log', optimizer: 'sgd', lr: 0.05, momentum: 0,
  };

  it('gives the weights of one process with the same global batch; rank 0 alone writes the run and prints', async () => {
    const runsDir = tmp('insight-dp-runs-');
    const files = tmp('insight-dp-out-');
    const rank1Cwd = tmp('insight-dp-rank1-');
    const config = JSON.stringify({ ...recipe, runsDir });
    const port = await freeLocalPort();
    const ranks = [0, 1].map((rank) => startNode([RANK_MAIN, config, path.join(files, `rank${rank}.json`)],
      rankEnv(rank, 2, port, { INSIGHT_DIST_TIMEOUT_MS: '30000' }), rank === 0 ? undefined : rank1Cwd));
    const [r0, r1] = await Promise.all(ranks.map((r) => r.done));
    expectOk(r0, 'rank 0');
    expectOk(r1, 'rank 1');
    const group = [0, 1].map((rank) => readResult(path.join(files, `rank${rank}.json`)));

    // One process: the same recipe, no group.
    const singleRuns = tmp('insight-dp-single-');
    const single = startNode([RANK_MAIN, JSON.stringify({ ...recipe, runsDir: singleRuns }), path.join(files, 'single.json')], {});
    expectOk(await single.done, 'the single process');
    const one = readResult(path.join(files, 'single.json'));

    assert.equal(one.state.step, 2 * 9);
    assert.equal(group[0].state.step, one.state.step);
    assert.equal(group[1].state.step, one.state.step);
    const difference = maxDifference(group[0].weights, one.weights);
    assert.ok(difference < 1e-5, `2 processes vs 1: max |dw| = ${difference}`);
    // Every rank applied the same updates: rank 1's weights are rank 0's.
    assert.equal(maxDifference(group[1].weights, group[0].weights), 0);
    // The epoch logs are the global batch's (the ranks' sums reduced), as one process logs them.
    group[0].state.history.forEach((logs, e) => {
      assert.ok(Math.abs(logs.loss - one.state.history[e].loss) < 1e-4, `epoch ${e + 1} loss ${logs.loss} vs ${one.state.history[e].loss}`);
      assert.equal(logs.accuracy, one.state.history[e].accuracy);
      assert.ok(Math.abs(logs.val_loss! - one.state.history[e].val_loss!) < 1e-4);
    });

    // Rank 0 alone wrote: one run directory, completed, marked with the world size; rank 1 printed nothing and
    // left its working directory empty; both return rank 0's run directory.
    assert.deepEqual(fs.readdirSync(runsDir).length, 1);
    assert.equal(group[0].runDir, path.join(runsDir, fs.readdirSync(runsDir)[0]));
    assert.equal(group[1].runDir, group[0].runDir);
    const info = JSON.parse(fs.readFileSync(path.join(group[0].runDir, 'run.json'), 'utf8'));
    assert.equal(info.status, 'completed');
    assert.equal(info.summary.worldSize, 2);
    assert.equal(r1.stdout, '');
    assert.equal(r1.stderr, '');
    assert.deepEqual(fs.readdirSync(rank1Cwd), []);
    assert.match(r0.stdout, /data parallel: 2 processes x 16 images a batch, gradients averaged in \d+ buckets?/);
    assert.match(r0.stdout, /Report on validation/);
  });

  it('refuses a --batch-size that does not split over the ranks (INSIGHT_E_CONFIG), before the rendezvous', async () => {
    const runsDir = tmp('insight-dp-batch-');
    const cli = startNode([INSIGHT_BIN, 'train', '--data', CIFAR_ARCHIVE, '--limit', '100', '--batch-size', '33', '--runs-dir', runsDir],
      rankEnv(1, 2, 1));
    const finished = await cli.done;
    assert.equal(finished.code, 2);
    assert.match(finished.stderr, /INSIGHT_E_CONFIG/);
    assert.match(finished.stderr, /--batch-size is the global batch in data-parallel training: it must split evenly over the ranks \(WORLD_SIZE\)/);
    assert.match(finished.stderr, /Received: batchSize=33, WORLD_SIZE=2/);
    assert.match(finished.stderr, /Pass a multiple of 2, e\.g\. --batch-size 34/);
    assert.deepEqual(fs.readdirSync(runsDir), []);
  });

  it('insight train --nproc 2 refuses such a --batch-size itself (exit 2) before it starts any worker', async () => {
    const runsDir = tmp('insight-dp-nproc-');
    const cli = startNode([INSIGHT_BIN, 'train', '--nproc', '2', '--data', CIFAR_ARCHIVE, '--limit', '100', '--batch-size', '33', '--runs-dir', runsDir], {});
    const finished = await cli.done;
    assert.equal(finished.code, 2);
    assert.match(finished.stderr, /^Error INSIGHT_E_CONFIG: --batch-size is the global batch in data-parallel training: it must split evenly over the ranks \(WORLD_SIZE\)\. Received: batchSize=33, WORLD_SIZE=2\./m);
    assert.doesNotMatch(finished.stderr, /\[rank 1\]|INSIGHT_E_DISTRIBUTED/, 'no worker started');
    assert.equal(finished.stdout, '');
    assert.deepEqual(fs.readdirSync(runsDir), []);
  });
});
