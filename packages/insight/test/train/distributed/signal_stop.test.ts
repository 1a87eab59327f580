// Ctrl-C or SIGTERM in data-parallel training, as `insight launch` forwards it to every worker: the followers are not
// killed by it; rank 0's stop request travels with an update's allreduce, so every rank stops after that same
// update, rank 0 saving checkpoints/last there (as one process does); `train --resume` continues the run to the
// weights of an uninterrupted one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { tf } from '../../../src/backend';
import { initBackend } from '../../../src/backend';
import { readCheckpoint } from '../../../src/run/checkpoint';
import { RunDir } from '../../../src/run/run_dir';
import type { TrainerState } from '../../../src/train/state';
import { expectOk, freeLocalPort, maxDifference, MOMENTUM_RECIPE, RANK_MAIN, rankEnv, readResult, startNode, tmp, type Finished } from '../ranks';

before(async () => {
  await initBackend();
});

describe('data-parallel train (WORLD_SIZE=2) at SIGTERM', () => {
  it('stops every rank after the same update with rank 0\'s checkpoint there, and resumes to an uninterrupted run\'s weights', async () => {
    const recipe = MOMENTUM_RECIPE;
    const runsDir = tmp('insight-dp-signal-');
    const files = tmp('insight-dp-signal-out-');
    const group = async (config: string, rank0: Record<string, string>, withPeerPid: boolean): Promise<Finished[]> => {
      const port = await freeLocalPort();
      const env = { INSIGHT_DIST_TIMEOUT_MS: '30000' };
      const r1 = startNode([RANK_MAIN, config, path.join(files, 'rank1.json')], rankEnv(1, 2, port, env));
      const r0 = startNode([RANK_MAIN, config, path.join(files, 'rank0.json')],
        rankEnv(0, 2, port, { ...env, ...rank0, ...(withPeerPid ? { PEER_PID: String(r1.child.pid) } : {}) }));
      return Promise.all([r0.done, r1.done]);
    };

    // At update 11 (epoch 2) rank 0 sends SIGTERM to rank 1 and to itself.
    const [stopped0, stopped1] = await group(JSON.stringify({ ...recipe, runsDir }), { SIGTERM_AT_STEP: '11' }, true);
    assert.equal(stopped1.signal, null, `rank 1 was killed by the signal: ${stopped1.stderr}`);
    assert.equal(stopped0.code, 1);
    assert.equal(stopped1.code, 1);
    assert.doesNotMatch(stopped0.stderr + stopped1.stderr, /INSIGHT_E_DISTRIBUTED/);
    const [runName] = fs.readdirSync(runsDir);
    const run = path.join(runsDir, runName);
    const where = new RegExp(`^Error INSIGHT_E_INTERRUPTED: Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update\\. ` +
      `Received: signal="SIGTERM", run="${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}", savedAt="(epoch 2, batch \\d\\/9 \\(step (\\d+)\\))"\\. Resume with: insight train --resume `, 'm');
    const [, savedAt, stepText] = where.exec(stopped0.stderr) ?? assert.fail(`rank 0's error: ${stopped0.stderr}`);
    const step = Number(stepText);
    assert.ok(step > 11 && step < 18, `stopped at step ${step}`);
    assert.match(stopped1.stderr, new RegExp(`^Error INSIGHT_E_INTERRUPTED: .* Received: rank=1, savedAt="${savedAt.replace(/[()/]/g, '\\$&')}"\\. Rank 0 saved the run's checkpoints/last there`, 'm'));
    assert.equal(RunDir.open(run).readInfo().status, 'interrupted');
    const checkpoint = await readCheckpoint<TrainerState>(RunDir.open(run).lastCheckpoint);
    assert.equal(checkpoint.trainer.step, step);
    assert.equal(checkpoint.trainer.epoch, 1);
    tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);

    // `train --resume <run>` on 2 processes: rank 0 continues it, rank 1 takes config, weights and state by broadcast.
    const [resumed0, resumed1] = await group('{}', { RESUME: run }, false);
    expectOk(resumed0, 'rank 0 (resume)');
    expectOk(resumed1, 'rank 1 (resume)');
    assert.match(resumed0.stdout, /^Resuming .* at epoch 2$/m);
    assert.deepEqual(fs.readdirSync(runsDir), [runName]);
    assert.equal(RunDir.open(run).readInfo().status, 'completed');
    const result = readResult(path.join(files, 'rank0.json'));
    assert.equal(result.state.step, 27);
    assert.equal(maxDifference(readResult(path.join(files, 'rank1.json')).weights, result.weights), 0);

    const single = startNode([RANK_MAIN, JSON.stringify({ ...recipe, runsDir: tmp('insight-dp-signal-one-') }), path.join(files, 'single.json')], {});
    expectOk(await single.done, 'the single process');
    const difference = maxDifference(result.weights, readResult(path.join(files, 'single.json')).weights);
    assert.ok(difference < 1e-5, `interrupted and resumed 2-process run vs uninterrupted single process: max |dw| = ${difference}`);
  });
});
