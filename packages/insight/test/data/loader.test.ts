// DataLoader: batch counts, per-epoch reshuffling, determinism given (seed, epoch) whatever the worker count,
// epochs started at a batch (the same batches as a whole epoch's tail), normalization and augmentation applied to
// the right records, and option errors.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DataLoader, type Batch, type LoaderOptions } from '../../src/data';
import { collect, indexDataset } from './helpers';

const AUGMENT = { randomCrop: { padding: 2 }, horizontalFlip: true, cutout: { size: 2 } };
const loaders: DataLoader[] = [];
after(() => Promise.all(loaders.map((l) => l.close())));

function loader(count: number, opts: LoaderOptions, hw = 4): DataLoader {
  const l = new DataLoader(indexDataset(count, hw, hw), opts);
  loaders.push(l);
  return l;
}

/** Record id of every sample: x[0] of an un-augmented sample is (id * 16) / 255 (ids below 16). */
const recordIds = (batches: Batch[]) => batches.flatMap((b) => Array.from({ length: b.size }, (_, k) => Math.round(b.x[k * 48] * 255) / 16));

describe('DataLoader batching', () => {
  it('batch counts and sizes with and without dropRemainder', async () => {
    const keep = loader(10, { batchSize: 4, workers: 0, seed: 1 });
    assert.equal(keep.batchesPerEpoch, 3);
    assert.deepEqual((await collect(keep.epoch(0))).map((b) => [b.size, b.x.length, b.y.length]), [[4, 192, 4], [4, 192, 4], [2, 96, 2]]);
    const drop = loader(10, { batchSize: 4, workers: 0, seed: 1, dropRemainder: true });
    assert.equal(drop.batchesPerEpoch, 2);
    assert.deepEqual((await collect(drop.epoch(0))).map((b) => b.size), [4, 4]);
    assert.equal(loader(8, { batchSize: 4, workers: 0, dropRemainder: true }).batchesPerEpoch, 2);
  });

  it('without shuffle: records in order, x = images / 255, y = labels', async () => {
    const batches = await collect(loader(5, { batchSize: 2, shuffle: false, workers: 0 }).epoch(3));
    assert.deepEqual(recordIds(batches), [0, 1, 2, 3, 4]);
    assert.deepEqual(batches.flatMap((b) => Array.from(b.y)), [0, 1, 2, 0, 1]);
    const ds = indexDataset(5);
    assert.deepEqual(Array.from(batches[1].x), Array.from(ds.images.subarray(96, 192), (v) => Math.fround(v / 255)));
  });

  it('meanstd normalization', async () => {
    const [b] = await collect(loader(1, { batchSize: 1, workers: 0, normalization: { kind: 'meanstd', mean: [0, 0.5, 1], std: [1, 2, 4] } }).epoch(0));
    const ds = indexDataset(1);
    assert.deepEqual(Array.from(b.x), Array.from(ds.images, (v, i) => Math.fround((v / 255 - [0, 0.5, 1][i % 3]) / [1, 2, 4][i % 3])));
  });
});

describe('DataLoader shuffling and determinism', () => {
  it('every epoch is a permutation of all records, reshuffled per epoch, reproducible per seed', async () => {
    const a = loader(16, { batchSize: 6, seed: 5, workers: 0 });
    const b = loader(16, { batchSize: 6, seed: 5, workers: 0 });
    const e0 = recordIds(await collect(a.epoch(0)));
    const e1 = recordIds(await collect(a.epoch(1)));
    assert.deepEqual([...e0].sort((x, y) => x - y), Array.from({ length: 16 }, (_, i) => i));
    assert.deepEqual([...e1].sort((x, y) => x - y), Array.from({ length: 16 }, (_, i) => i));
    assert.notDeepEqual(e0, e1, 'different epochs, different order');
    assert.deepEqual(recordIds(await collect(b.epoch(1))), e1, 'same seed and epoch, same order');
    assert.deepEqual(recordIds(await collect(a.epoch(0))), e0, 'an epoch can be replayed');
    const c = loader(16, { batchSize: 6, seed: 6, workers: 0 });
    assert.notDeepEqual(recordIds(await collect(c.epoch(0))), e0);
    assert.equal(a.seed, 5);
    assert.ok(Number.isInteger(loader(3, { batchSize: 1, workers: 0 }).seed), 'a fresh seed is chosen and exposed');
  });

  it('workers 0, 1 and 2 give identical augmented batches', async () => {
    const opts = { batchSize: 7, seed: 11, augment: AUGMENT, prefetch: 3 };
    const inline = await collect(loader(40, { ...opts, workers: 0 }, 6).epoch(2));
    for (const workers of [1, 2]) {
      const l = loader(40, { ...opts, workers }, 6);
      const threaded = await collect(l.epoch(2));
      assert.equal(threaded.length, 6);
      threaded.forEach((batch, i) => {
        assert.deepEqual(batch.x, inline[i].x, `workers ${workers} batch ${i}`);
        assert.deepEqual(batch.y, inline[i].y);
      });
      assert.notDeepEqual((await collect(l.epoch(3)))[0].x, inline[0].x, 'another epoch, other batches');
    }
  });

  it('plain Uint8Array datasets are copied to shared memory once and work with workers', async () => {
    const l = loader(9, { batchSize: 4, seed: 2, workers: 1 });
    const batches = await collect(l.epoch(0));
    assert.deepEqual([...recordIds(batches)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await l.close();
    assert.throws(() => l.epoch(1), /This DataLoader is closed\./);
  });
});

describe('DataLoader epochs from a start batch (a run resumed inside an epoch)', () => {
  /** The bytes of a batch, for bit-for-bit comparison. */
  const bytes = (b: Batch) => [Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength), Buffer.from(b.y.buffer, b.y.byteOffset, b.y.byteLength), b.size] as const;

  it('batches from start k are batches k.. of the whole epoch, bit for bit (shuffled, augmented), with workers 0 and 2', async () => {
    // 40 records in batches of 7: 6 batches, the last of 5.
    const opts = { batchSize: 7, seed: 13, augment: AUGMENT, prefetch: 2 };
    const whole = await collect(loader(40, { ...opts, workers: 0 }, 6).epoch(3));
    assert.equal(whole.length, 6);
    for (const workers of [0, 2]) {
      const l = loader(40, { ...opts, workers }, 6);
      for (const start of [0, 1, 4, 5, 6]) {
        const tail = await collect(l.epoch(3, { startBatch: start }));
        assert.equal(tail.length, 6 - start, `workers ${workers}, start ${start}`);
        tail.forEach((batch, i) => {
          const [x, y, size] = bytes(batch);
          const [wx, wy, wsize] = bytes(whole[start + i]);
          assert.ok(x.equals(wx) && y.equals(wy), `workers ${workers}, start ${start}: batch ${start + i} differs`);
          assert.equal(size, wsize);
        });
      }
      // The epoch after a partial one is whole again, and not the same batches.
      const next = await collect(l.epoch(4));
      assert.equal(next.length, 6);
      assert.ok(!bytes(next[0])[0].equals(bytes(whole[0])[0]));
    }
  });

  it('refuses a start outside [0, batchesPerEpoch]', () => {
    const l = loader(10, { batchSize: 4, workers: 0, seed: 1 });
    for (const startBatch of [-1, 1.5, 4]) {
      assert.throws(() => l.epoch(0, { startBatch }), (e: unknown) => e instanceof Error && e.message ===
        `startBatch must be an integer in [0, 3]. Received: startBatch=${startBatch}. Pass a 0-based batch index up to batchesPerEpoch (3).`);
    }
  });
});

describe('DataLoader augmentation', () => {
  it('flip only: each sample is its record or the record mirrored, both occur', async () => {
    const ds = indexDataset(16, 3, 3);
    const l = new DataLoader(ds, { batchSize: 16, shuffle: false, workers: 0, seed: 4, augment: { horizontalFlip: true } });
    const [b] = await collect(l.epoch(0));
    let flipped = 0;
    for (let k = 0; k < 16; k++) {
      const src = Array.from(ds.images.subarray(k * 27, k * 27 + 27), (v) => Math.fround(v / 255));
      const mirrored = [0, 1, 2].flatMap((y) => [2, 1, 0].flatMap((x) => src.slice((y * 3 + x) * 3, (y * 3 + x) * 3 + 3)));
      const got = Array.from(b.x.subarray(k * 27, k * 27 + 27));
      if (got.join() === mirrored.join()) flipped++;
      else assert.deepEqual(got, src, `sample ${k}`);
    }
    assert.ok(flipped > 0 && flipped < 16, `flipped ${flipped} of 16`);
  });

  it('crop and cutout keep labels with their images and only ever add zeros', async () => {
    const ds = indexDataset(12, 4, 4);
    const l = new DataLoader(ds, { batchSize: 12, shuffle: false, workers: 0, seed: 9, augment: AUGMENT });
    const [b] = await collect(l.epoch(0));
    assert.deepEqual(b.y, ds.labels);
    for (let k = 0; k < 12; k++) {
      const values = new Set(Array.from(ds.images.subarray(k * 48, k * 48 + 48), (v) => Math.fround(v / 255)));
      values.add(0);
      assert.ok(Array.from(b.x.subarray(k * 48, k * 48 + 48)).every((v) => values.has(v)), `sample ${k} holds only its own pixels or zeros`);
    }
  });
});

describe('DataLoader option errors', () => {
  const ds = indexDataset(4);
  const cases: [Partial<LoaderOptions>, RegExp][] = [
    [{ batchSize: 0 }, /^InsightError: batchSize must be a positive integer\. Received: batchSize=0\. Pass e\.g\. batchSize: 64\.$/],
    [{ batchSize: 2.5 }, /batchSize must be a positive integer\. Received: batchSize=2\.5\./],
    [{ batchSize: 2, workers: -1 }, /workers must be an integer in \[0, 256\]\. Received: workers=-1\. Pass 0 to render batches inline/],
    [{ batchSize: 2, prefetch: 0 }, /prefetch must be an integer in \[1, 1024\]\. Received: prefetch=0\./],
    [{ batchSize: 2, seed: 0.5 }, /seed must be an integer.*Received: seed=0\.5\./],
    [{ batchSize: 8, dropRemainder: true }, /dropRemainder with batchSize larger than the dataset leaves no batches\. Received: batchSize=8, count=4, dropRemainder=true\./],
    [{ batchSize: 2, augment: { cutout: { size: 9 } } }, /augment\.cutout\.size must be an integer in \[1, 4\]\. Received: augment\.cutout\.size=9\./],
    [{ batchSize: 2, normalization: { kind: 'meanstd', mean: [0, 0, 0], std: [0, 1, 1] } }, /std > 0/],
  ];
  for (const [opts, pattern] of cases) {
    it(JSON.stringify(opts), () => assert.throws(() => new DataLoader(ds, { workers: 0, ...opts } as LoaderOptions), pattern));
  }
  it('inconsistent datasets and bad epoch numbers', () => {
    assert.throws(() => new DataLoader({ ...ds, count: 5 }, { batchSize: 1 }), /dataset\.images must hold count\*height\*width\*3 bytes\. Received: images\.length=192, count=5/);
    assert.throws(() => new DataLoader({ ...ds, labels: new Int32Array([0, 1, 2, 3]) }, { batchSize: 1 }),
      /Every label must be in \[0, classNames\.length\)\. Received: index=3, label=3, classNames\.length=3\./);
    assert.throws(() => new DataLoader(ds, { batchSize: 1, workers: 0 }).epoch(-1), /epochIndex must be a non-negative integer\. Received: epochIndex=-1\./);
  });
});
