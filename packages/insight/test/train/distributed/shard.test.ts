// The pieces of data parallelism that need no group: a sharded DataLoader's slices put together are one process's
// batches (order, augmentation, a short last batch cut unevenly or into an empty slice), gradient buckets flatten and
// split back exactly, the launch environment is parsed once with house errors, and DataParallel refuses an update
// before its start (on a one-rank Gloo group).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ProcessGroup } from '@insight/tfjs-backend-torch';

import { initBackend, tf } from '../../../src/backend';
import { DataLoader, type Batch } from '../../../src/data';
import { GradientBuckets } from '../../../src/train/distributed/gradient_buckets';
import { DataParallel } from '../../../src/train/distributed/data_parallel';
import { checkBatchSplits, launchPlace, rendezvousOf } from '../../../src/train/distributed/environment';
import { freeLocalPort } from '../ranks';
import { tinyDataset } from '../tiny';

async function collect(loader: DataLoader, epoch: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const b of loader.epoch(epoch)) batches.push(b);
  await loader.close();
  return batches;
}

describe('DataLoader shard', () => {
  for (const workers of [0, 1]) {
    it(`rank slices of every global batch put together are one process's batches (workers: ${workers})`, async () => {
      const ds = tinyDataset(37, 8, 3); // batches of 12: 12, 12, 12 and a last of 1 (slices 0 / 0 / 1 over 3 ranks)
      const options = { batchSize: 12, seed: 5, workers, augment: { randomCrop: { padding: 2 }, horizontalFlip: true, cutout: { size: 3 } } };
      const whole = await collect(new DataLoader(ds, options), 1);
      const ranks = await Promise.all([0, 1, 2].map((rank) => collect(new DataLoader(ds, { ...options, shard: { rank, count: 3 } }), 1)));
      assert.equal(whole.length, 4);
      ranks.forEach((batches) => assert.equal(batches.length, 4));
      assert.deepEqual(ranks.map((batches) => batches.map((b) => b.size)), [[4, 4, 4, 0], [4, 4, 4, 0], [4, 4, 4, 1]]);
      whole.forEach((batch, b) => {
        assert.deepEqual(Array.from(batch.y), ranks.flatMap((batches) => Array.from(batches[b].y)));
        assert.deepEqual(Array.from(batch.x), ranks.flatMap((batches) => Array.from(batches[b].x)));
      });
    });
  }

  it('refuses a rank outside the group', () => {
    assert.throws(() => new DataLoader(tinyDataset(8), { batchSize: 4, shard: { rank: 2, count: 2 } }), /shard\.rank must be an integer in \[0, 1\]\. Received: shard\.rank=2/);
  });
});

describe('GradientBuckets', () => {
  it('fills buckets in reverse order up to the byte budget, and split(flatten(g)) is g', () => {
    const shapes = [[3, 3, 2, 4], [4], [36, 5], [5]];
    const buckets = new GradientBuckets(shapes, 4 * 100);
    assert.deepEqual(buckets.buckets, [[3], [2], [1, 0]]); // 5, then 180 (alone: over budget), then 4 + 72
    const grads = shapes.map((shape, i) => tf.randomUniform(shape, -1, 1, 'float32', i + 1));
    const flats = buckets.flatten(grads, 3);
    assert.deepEqual(flats.map((f) => f.shape), [[5], [180], [76]]);
    const back = buckets.split(flats, 1 / 3);
    back.forEach((g, i) => {
      assert.deepEqual(g.shape, shapes[i]);
      const difference = tf.max(tf.abs(tf.sub(g, grads[i]))).dataSync()[0];
      assert.ok(difference < 1e-6, `variable ${i}: ${difference}`);
    });
    tf.dispose([...grads, ...flats, ...back]);
  });
});

describe('the launch environment', () => {
  it('reads torchrun\'s variables; one process without WORLD_SIZE or with 1 outside a launch; a one-worker launch has a place', () => {
    assert.equal(launchPlace({}), null);
    assert.equal(launchPlace({ WORLD_SIZE: '1', RANK: '0' }), null);
    assert.deepEqual(launchPlace({ WORLD_SIZE: '1', RANK: '0', TORCHELASTIC_RESTART_COUNT: '1', INSIGHT_LAUNCH_ID: 'solo' }),
      { rank: 0, worldSize: 1, restartCount: 1, launchId: 'solo' });
    assert.throws(() => launchPlace({ WORLD_SIZE: '1', RANK: '1', INSIGHT_LAUNCH_ID: 'solo' }), /RANK must be below WORLD_SIZE.*Received: RANK=1, WORLD_SIZE=1/s);
    assert.deepEqual(launchPlace({ WORLD_SIZE: '4', RANK: '3', TORCHELASTIC_RESTART_COUNT: '2', INSIGHT_LAUNCH_ID: 'job-7' }),
      { rank: 3, worldSize: 4, restartCount: 2, launchId: 'job-7' });
    assert.throws(() => launchPlace({ WORLD_SIZE: '2', RANK: '2' }), /RANK must be below WORLD_SIZE.*Received: RANK=2, WORLD_SIZE=2/s);
    assert.throws(() => launchPlace({ WORLD_SIZE: 'two', RANK: '0' }), /WORLD_SIZE must be an integer of at least 1/);
    assert.throws(() => launchPlace({ WORLD_SIZE: '2', RANK: '0x1' }), /RANK must be an integer of at least 0 in data-parallel training\. Received: RANK="0x1"\./);
  });

  it('reads where the group meets: MASTER_ADDR, MASTER_PORT, GLOO_SOCKET_IFNAME, with house errors', () => {
    assert.deepEqual(rendezvousOf({ MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500' }), { masterAddr: '10.0.0.1', masterPort: 29500 });
    assert.deepEqual(rendezvousOf({ MASTER_ADDR: 'node0', MASTER_PORT: '1234', GLOO_SOCKET_IFNAME: 'eth1' }), { masterAddr: 'node0', masterPort: 1234, ifname: 'eth1' });
    assert.throws(() => rendezvousOf({ MASTER_PORT: '29500' }), (e: Error & { code?: string }) => e.code === 'INSIGHT_E_CONFIG' &&
      /^MASTER_ADDR must name the host of rank 0 in data-parallel training\. Received: MASTER_ADDR="\(unset\)"\. Start the workers with `insight launch`/.test(e.message));
    assert.throws(() => rendezvousOf({ MASTER_ADDR: 'a', MASTER_PORT: '1e3' }), /MASTER_PORT must be an integer of at least 1 in data-parallel training\. Received: MASTER_PORT="1e3"\./);
    assert.throws(() => rendezvousOf({ MASTER_ADDR: 'a', MASTER_PORT: '70000' }), /MASTER_PORT must be a TCP port, 1 to 65535\. Received: MASTER_PORT="70000"\./);
  });

  it('the global batch must split over the ranks', () => {
    checkBatchSplits(64, 4);
    assert.throws(() => checkBatchSplits(64, 3), (e: Error & { code?: string }) => e.code === 'INSIGHT_E_CONFIG' &&
      /Received: batchSize=64, WORLD_SIZE=3\. Pass a multiple of 3, e\.g\. --batch-size 63, or launch 2 processes instead\./.test(e.message));
  });
});

describe('DataParallel', () => {
  it('refuses an update before start() with a house error', async () => {
    await initBackend();
    const group = await ProcessGroup.init({ masterAddr: '127.0.0.1', masterPort: await freeLocalPort(), rank: 0, worldSize: 1, timeoutMs: 10_000 });
    try {
      const parallel = new DataParallel(group);
      const grads = [tf.zeros([2])];
      await assert.rejects(parallel.reduce(grads, { loss: 0, correct: 0, seen: 1 }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INSIGHT_E_CONFIG');
        assert.equal(e.message, 'DataParallel.reduce() needs the group started: call start() with the model first. Received: rank=0, started=false. ' +
          'Call `await parallel.start(model, optimizer, initialState)` before the first update.');
        return true;
      });
      tf.dispose(grads);
    } finally {
      group.close();
    }
  });
});
