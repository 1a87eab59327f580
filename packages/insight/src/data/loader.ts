// The training input pipeline: shuffles every epoch, batches, augments and normalizes off the main thread
// (worker_threads reading the images from a SharedArrayBuffer) and keeps `prefetch` batches in flight so the
// training step never waits. A batch depends only on (seed, epoch, batch index): workers: 0, 1 or 8 give
// identical batches, and an epoch can start at any batch (a run resumed inside an epoch) without rendering the
// batches before it. With `shard` (data-parallel training) batchSize is the global batch and the loader yields one
// rank's slice of each global batch: the same order and augmentation as one process, cut between the ranks.
import * as os from 'node:os';
import type { AugmentConfig } from './augment';
import { checkAugmentConfig } from './augment';
import { renderBatch, type BatchRecipe } from './batch_renderer';
import { checkDataset, sharedBytes, type ImageDataset } from './dataset';
import { ruleError } from '../errors';
import { checkInteger } from './check_integer';
import { normalizationTable, type Normalization } from './normalize';
import { freshSeed, permutation, streamRng } from './random';
import { WorkerPool } from './worker_pool';

/** One batch. x: [size, H, W, 3] float32 normalized, NHWC; y: [size] int32 labels. */
export interface Batch { x: Float32Array; y: Int32Array; size: number }

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true, as Keras fit). */
  shuffle?: boolean;
  /** Fixes order and augmentation; default: a fresh random seed, readable as loader.seed. */
  seed?: number;
  augment?: AugmentConfig;
  /** Default { kind: 'scale' } (x / 255, the reference recipe). */
  normalization?: Normalization;
  /** Worker threads; default min(2, cores). 0 renders inline on the calling thread (same batches). */
  workers?: number;
  /** Drop the last batch when smaller than batchSize (default false, as Keras). */
  dropRemainder?: boolean;
  /** Batches rendered ahead of the consumer; default max(2, 2 * workers). Ignored with workers: 0. */
  prefetch?: number;
  /**
   * Data parallel: yield rank `rank`'s slice of every batch of batchSize (the global batch), ranks 0..count-1 in
   * order; a short last batch is cut as evenly as it goes (a slice may then be empty: size 0).
   */
  shard?: Shard;
}

/** One rank's part of every global batch. */
export interface Shard { rank: number; count: number }

export interface EpochOptions {
  /**
   * The 0-based batch to start at (default 0): batches startBatch.. of the epoch, exactly as a whole epoch gives
   * them (same order, same augmentation); the batches before it are neither rendered nor decoded.
   */
  startBatch?: number;
}

/**
 * Batches of an ImageDataset for training or evaluation.
 * Example:
 *   const loader = new DataLoader(train, { batchSize: 64, seed: 1, augment: { horizontalFlip: true } });
 *   for (let e = 0; e < epochs; e++) for await (const { x, y, size } of loader.epoch(e)) { ... }
 *   await loader.close();
 */
export class DataLoader {
  readonly batchesPerEpoch: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly workers: number;
  readonly prefetch: number;
  private readonly shuffle: boolean;
  private readonly images: Uint8Array;
  private readonly labels: Int32Array;
  private readonly count: number;
  private readonly recipe: BatchRecipe;
  private readonly shard: Shard;
  private pool: WorkerPool | null = null;
  private closed = false;

  constructor(ds: ImageDataset, opts: LoaderOptions) {
    checkDataset(ds);
    const { batchSize, shuffle = true, augment = {}, normalization = { kind: 'scale' }, dropRemainder = false } = opts;
    checkInteger('INSIGHT_E_CONFIG', 'batchSize', batchSize, 1, Number.MAX_SAFE_INTEGER, 'Pass e.g. batchSize: 64.');
    const workers = opts.workers ?? Math.min(2, os.availableParallelism());
    checkInteger('INSIGHT_E_CONFIG', 'workers', workers, 0, 256, 'Pass 0 to render batches inline, or a small thread count such as 2.');
    const prefetch = opts.prefetch ?? Math.max(2, 2 * workers);
    checkInteger('INSIGHT_E_CONFIG', 'prefetch', prefetch, 1, 1024, 'Pass the number of batches to prepare ahead, e.g. 4.');
    const seed = opts.seed ?? freshSeed();
    checkInteger('INSIGHT_E_CONFIG', 'seed', seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'Pass an integer seed, e.g. seed: 42.');
    checkAugmentConfig(augment, ds.height, ds.width);
    const shard = opts.shard ?? { rank: 0, count: 1 };
    checkInteger('INSIGHT_E_CONFIG', 'shard.count', shard.count, 1, 65536, 'Pass the world size, e.g. shard: { rank: 0, count: 2 }.');
    checkInteger('INSIGHT_E_CONFIG', 'shard.rank', shard.rank, 0, shard.count - 1, `Pass a rank from 0 to ${shard.count - 1}.`);
    if (ds.count === 0) {
      throw ruleError('INSIGHT_E_DATA', 'A DataLoader needs at least one record.', { count: 0 }, 'Check the dataset (and the split) is not empty.');
    }
    const batches = dropRemainder ? Math.floor(ds.count / batchSize) : Math.ceil(ds.count / batchSize);
    if (batches === 0) {
      throw ruleError('INSIGHT_E_CONFIG', 'dropRemainder with batchSize larger than the dataset leaves no batches.',
        { batchSize, count: ds.count, dropRemainder }, 'Lower batchSize or pass dropRemainder: false.');
    }
    this.batchesPerEpoch = batches;
    this.batchSize = batchSize;
    this.seed = seed;
    this.workers = workers;
    this.prefetch = prefetch;
    this.shuffle = shuffle;
    this.count = ds.count;
    this.labels = ds.labels;
    // Workers need the bytes on a SharedArrayBuffer; loaders already allocate there, anything else is copied once.
    this.images = ds.images.buffer instanceof SharedArrayBuffer || workers === 0 ? ds.images : copyToShared(ds.images);
    this.shard = shard;
    this.recipe = { height: ds.height, width: ds.width, lut: normalizationTable(normalization), augment, seed };
  }

  /** The record order of epoch `epochIndex`: a seeded permutation per epoch, or 0..count-1 without shuffle. */
  order(epochIndex: number): Uint32Array {
    checkInteger('INSIGHT_E_CONFIG', 'epochIndex', epochIndex, 0, Number.MAX_SAFE_INTEGER, 'Pass the 0-based epoch number.');
    if (!this.shuffle) return identityOrder(this.count);
    return permutation(this.count, streamRng(this.seed, 'order', epochIndex));
  }

  /**
   * The batches of epoch `epochIndex`, in order, from `options.startBatch` (default 0); deterministic given
   * (seed, epochIndex). Example: `loader.epoch(3, { startBatch: 40 })` → batches 40.. of epoch 3 (0-based).
   */
  epoch(epochIndex: number, options: EpochOptions = {}): AsyncIterableIterator<Batch> {
    if (this.closed) {
      throw ruleError('INSIGHT_E_INTERNAL', 'This DataLoader is closed.', { closed: true }, 'Create a new DataLoader.');
    }
    const start = options.startBatch ?? 0;
    checkInteger('INSIGHT_E_CONFIG', 'startBatch', start, 0, this.batchesPerEpoch,
      `Pass a 0-based batch index up to batchesPerEpoch (${this.batchesPerEpoch}).`);
    const order = this.order(epochIndex);
    return this.workers === 0 ? this.inlineBatches(epochIndex, order, start) : this.pooledBatches(epochIndex, order, start);
  }

  /** Stops the worker threads. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  /** The records of batch `batch` (this rank's slice of it) and where the slice starts in the whole batch. */
  private batchIndices(order: Uint32Array, batch: number): { indices: Uint32Array; offset: number } {
    const first = batch * this.batchSize;
    const size = Math.min(this.count, first + this.batchSize) - first;
    const { rank, count } = this.shard;
    const offset = Math.floor(rank * size / count);
    return { indices: order.slice(first + offset, first + Math.floor((rank + 1) * size / count)), offset };
  }

  private labelsOf(indices: Uint32Array): Int32Array {
    const y = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) y[k] = this.labels[indices[k]];
    return y;
  }

  private async *inlineBatches(epochIndex: number, order: Uint32Array, start: number): AsyncIterableIterator<Batch> {
    for (let b = start; b < this.batchesPerEpoch; b++) {
      const { indices, offset } = this.batchIndices(order, b);
      const x = renderBatch(this.images, this.recipe, epochIndex, b, indices, offset);
      yield { x, y: this.labelsOf(indices), size: indices.length };
    }
  }

  private async *pooledBatches(epochIndex: number, order: Uint32Array, start: number): AsyncIterableIterator<Batch> {
    if (this.closed) throw ruleError('INSIGHT_E_INTERNAL', 'This DataLoader is closed.', { closed: true }, 'Create a new DataLoader.');
    this.pool ??= new WorkerPool(this.images, this.recipe, this.workers);
    const pool = this.pool;
    const inFlight: Promise<Batch>[] = [];
    let next = start;
    const request = () => {
      const b = next++;
      const { indices, offset } = this.batchIndices(order, b);
      const y = this.labelsOf(indices);
      const size = indices.length;
      const batch = pool.render(epochIndex, b, indices, offset).then((x) => ({ x, y, size }));
      batch.catch(() => undefined); // consumed (and rethrown) in order below; this only marks it handled
      inFlight.push(batch);
    };
    while (inFlight.length < this.prefetch && next < this.batchesPerEpoch) request();
    while (inFlight.length > 0) {
      const batch = await inFlight.shift()!;
      if (next < this.batchesPerEpoch) request();
      yield batch;
    }
  }
}

/** 0..n-1. */
function identityOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

function copyToShared(images: Uint8Array): Uint8Array {
  const shared = sharedBytes(images.length);
  shared.set(images);
  return shared;
}
