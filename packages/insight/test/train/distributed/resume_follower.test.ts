// A follower (rank > 0) started with `train --resume <run>` has not read the run's config: rank 0 checks the run's
// batch size against the world size and broadcasts the config. The follower must not check the default batch (64)
// instead: with WORLD_SIZE=3 it would refuse a run whose batch splits in three, and rank 0 would wait out the
// rendezvous. Here no rank 0 exists, so the follower goes on to the rendezvous and times out there.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { it } from 'node:test';

import { freeLocalPort, INSIGHT_BIN, rankEnv, startNode, tmp } from '../ranks';

it('a follower given --resume leaves the batch check to rank 0 and goes to the rendezvous', async () => {
  const port = await freeLocalPort();
  const follower = startNode([INSIGHT_BIN, 'train', '--resume', path.join(tmp('insight-dp-resume-'), 'a-run')],
    rankEnv(1, 3, port, { INSIGHT_DIST_TIMEOUT_MS: '1000' }));
  const { code, stderr } = await follower.done;
  assert.equal(code, 10, stderr);
  assert.doesNotMatch(stderr, /batchSize=64/);
  assert.match(stderr, /^Error INSIGHT_E_DISTRIBUTED: Data-parallel training needs every rank of its group alive: a collective failed\. Received: rank=1, collective="rendezvous at 127\.0\.0\.1:\d+"/m);
});
