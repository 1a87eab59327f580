// The pieces of data parallelism that need no group: a sharded DataLoader's slices put together are one process's
// batches (order, augmentation, a short last batch cut unevenly or into an empty slice), and gradient buckets
// flatten and split back exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { tf } from '../../../src/backend';
import { DataLoader, type Batch } from '../../../src/data';
import { GradientBuckets } from '../../../src/train/distributed/gradient_buckets';
import { checkBatchSplits, launchPlace } from '../../../src/train/distributed/environment';
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
  it('reads torchrun\'s variables; one process without WORLD_SIZE or with 1', () => {
    assert.equal(launchPlace({}), null);
    assert.equal(launchPlace({ WORLD_SIZE: '1', RANK: '0' }), null);
    assert.deepEqual(launchPlace({ WORLD_SIZE: '4', RANK: '3', TORCHELASTIC_RESTART_COUNT: '2', INSIGHT_LAUNCH_ID: 'job-7' }),
      { rank: 3, worldSize: 4, restartCount: 2, launchId: 'job-7' });
    assert.throws(() => launchPlace({ WORLD_SIZE: '2', RANK: '2' }), /RANK must be below WORLD_SIZE.*Received: RANK=2, WORLD_SIZE=2/s);
    assert.throws(() => launchPlace({ WORLD_SIZE: 'two', RANK: '0' }), /WORLD_SIZE must be an integer of at least 2/);
  });

  it('the global batch must split over the ranks', () => {
    checkBatchSplits(64, 4);
    assert.throws(() => checkBatchSplits(64, 3), (e: Error & { code?: string }) => e.code === 'INSIGHT_E_CONFIG' &&
      /Received: batchSize=64, WORLD_SIZE=3\. Pass a multiple of 3, e\.g\. --batch-size 63, or launch 2 processes instead\./.test(e.message));
  });
});
