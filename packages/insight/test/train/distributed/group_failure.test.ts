// Data-parallel `insight train` on 2 processes (the group made as `insight launch` makes it: torchrun's variables,
// a local rendezvous): a rank that dies, or stops answering, ends the other with a clear error instead of a hang.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { CIFAR_ARCHIVE } from '../../shared_data';
import { freeLocalPort, RANK_MAIN, rankEnv, startNode, tmp } from '../ranks';

describe('data-parallel train (WORLD_SIZE=2): a failed rank', () => {
  // 261 training images in batches of 32: 8 full batches (16 images a rank) and a last of 5, cut 2 / 3.
  // Crop and flip augmentation, so each rank's slice must get the augmentation it has in the whole batch.
  const recipe = {
    data: CIFAR_ARCHIVE, limit: 301, validationCount: 40, epochs: 2, batchSize: 32, augment: ['crop', 'flip'],
    seed: 7, workers: 0, tensorboard: false, progress: 'log',
  };

  it('a rank killed mid-training ends the other with INSIGHT_E_DISTRIBUTED within the group timeout, not a hang', async () => {
    const runsDir = tmp('insight-dp-kill-');
    const files = tmp('insight-dp-kill-out-');
    const config = JSON.stringify({ ...recipe, epochs: 200, runsDir, validationCount: 0, monitor: 'loss' });
    const port = await freeLocalPort();
    const env = (rank: number) => rankEnv(rank, 2, port, { INSIGHT_DIST_TIMEOUT_MS: '8000' });
    const r0 = startNode([RANK_MAIN, config, path.join(files, 'rank0.json')], env(0));
    const r1 = startNode([RANK_MAIN, config, path.join(files, 'rank1.json')], env(1));
    // Training has started once rank 0 says its run (after the group's start broadcast); give it a few steps more.
    const deadline = Date.now() + 40_000;
    while (!/^Run /m.test(r0.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(r0.output(), /^Run /m);
    await new Promise((r) => setTimeout(r, 500));
    r1.child.kill('SIGKILL');
    const killedAt = Date.now();
    const finished = await r0.done;
    const seconds = (Date.now() - killedAt) / 1000;
    assert.equal((await r1.done).signal, 'SIGKILL');
    assert.equal(finished.code, 1);
    assert.match(finished.stderr, /INSIGHT_E_DISTRIBUTED: Data-parallel training needs every rank of its group alive: a collective failed\./);
    // The kill lands in an update's allreduce or in the broadcasts that end an epoch (the decisions' size, then the
    // decisions; epochs here are 9 updates).
    assert.match(finished.stderr, /Received: rank=0, collective="(allreduce of the gradients|broadcast of (the size of )?the epoch's decisions)", error="tfjs-backend-torch: (allreduce|broadcast) on rank 0 of 2 failed: .*(Connection reset by peer|Connection closed by peer|Broken pipe)/);
    assert.ok(seconds < 12, `rank 0 took ${seconds} s to fail`);
    const [run] = fs.readdirSync(runsDir);
    assert.equal(JSON.parse(fs.readFileSync(path.join(runsDir, run, 'run.json'), 'utf8')).status, 'failed');
  });

  it('a rank that stops answering (SIGSTOP) ends the other with INSIGHT_E_DISTRIBUTED at the group timeout', async () => {
    const runsDir = tmp('insight-dp-stop-');
    const files = tmp('insight-dp-stop-out-');
    const config = JSON.stringify({ ...recipe, epochs: 200, runsDir, validationCount: 0, monitor: 'loss' });
    const port = await freeLocalPort();
    const env = (rank: number) => rankEnv(rank, 2, port, { INSIGHT_DIST_TIMEOUT_MS: '4000' });
    const r0 = startNode([RANK_MAIN, config, path.join(files, 'rank0.json')], env(0));
    const r1 = startNode([RANK_MAIN, config, path.join(files, 'rank1.json')], env(1));
    const deadline = Date.now() + 40_000;
    while (!/^Run /m.test(r0.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(r0.output(), /^Run /m);
    r1.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    try {
      const finished = await r0.done;
      const seconds = (Date.now() - stoppedAt) / 1000;
      assert.equal(finished.code, 1);
      assert.match(finished.stderr, /INSIGHT_E_DISTRIBUTED: Data-parallel training needs every rank of its group alive: a collective failed\. Received: rank=0/);
      assert.ok(seconds >= 3 && seconds < 10, `rank 0 failed ${seconds} s after rank 1 stopped (timeout 4 s)`);
    } finally {
      r1.child.kill('SIGKILL');
      await r1.done;
    }
  });
});
