// Data parallel with the reference optimizer (Adam): 2 processes of 16 images a batch give the weights of one process
// that accumulates 2 micro-batches of 16 (the same sums in the same float order), short last batch (5 = 2 + 3) included.
// Against one batch of 32 they differ by ~2e-3 after 18 steps, as one process's 2 x 16 does: Adam divides by the
// gradients' own size, so the float rounding of near-zero gradients is not damped (data_parallel.test.ts compares
// against one batch of 32 with plain SGD).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { CIFAR_ARCHIVE } from '../../shared_data';
import { expectOk, freeLocalPort, maxDifference, RANK_MAIN, rankEnv, readResult, startNode, tmp } from '../ranks';

describe('data-parallel train with Adam (WORLD_SIZE=2)', () => {
  it('gives the weights of one process accumulating the same micro-batches', async () => {
    const recipe = { data: CIFAR_ARCHIVE, limit: 301, validationCount: 40, epochs: 2, seed: 7, workers: 0, tensorboard: false, progress: 'none' };
    const files = tmp('insight-dp-adam-');
    const config = JSON.stringify({ ...recipe, batchSize: 32, runsDir: tmp('insight-dp-adam-runs-') });
    const port = await freeLocalPort();
    const ranks = [0, 1].map((rank) => startNode([RANK_MAIN, config, path.join(files, `rank${rank}.json`)],
      rankEnv(rank, 2, port, { INSIGHT_DIST_TIMEOUT_MS: '30000' })));
    for (const [rank, finished] of (await Promise.all(ranks.map((r) => r.done))).entries()) expectOk(finished, `rank ${rank}`);
    const single = startNode([RANK_MAIN, JSON.stringify({ ...recipe, batchSize: 16, gradAccumulation: 2, runsDir: tmp('insight-dp-adam-one-') }),
      path.join(files, 'single.json')], {});
    expectOk(await single.done, 'the single process');

    const [group, one] = [readResult(path.join(files, 'rank0.json')), readResult(path.join(files, 'single.json'))];
    assert.equal(group.state.step, 18);
    assert.equal(one.state.step, 18);
    const difference = maxDifference(group.weights, one.weights);
    assert.ok(difference < 1e-5, `2 processes x 16 vs 1 process 2 x 16 accumulated (Adam): max |dw| = ${difference}`);
    assert.equal(maxDifference(readResult(path.join(files, 'rank1.json')).weights, group.weights), 0);
  });
});
