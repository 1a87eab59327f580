// Throughput of the data pipeline on the real CIFAR-10 training data (50,000 images): the DataLoader with
// the reference settings (x / 255, batch 64, shuffle) and with augmentation (crop padding 4, flip, cutout 16),
// rendered inline (workers 0) or in 1 or 2 worker threads. Training consumes ~2,000-3,000 images/s, so the
// pipeline should deliver at least 10x that. Also measured: how long the training loop waits for a batch
// when every step takes 25 ms of main-thread work (64 images at 2,560 images/s), which prefetching should
// bring to ~0.
//
// Run from the repo root: node --import tsx benchmarks/data_pipeline.ts
// Data: $INSIGHT_CIFAR10 (archive or folder), else the shared training archive, else the cache / download.
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { DataLoader, loadCifar10, type AugmentConfig, type ImageDataset } from '../packages/insight/src/data';
import { benchmarkArgs } from './args';

benchmarkArgs(`Usage: node --conditions=source --import tsx benchmarks/data_pipeline.ts   (no options)
Data: $INSIGHT_CIFAR10 (archive or folder), else $INSIGHT_SHARED_DATA/cifar-10-binary-train.tar.gz, else
../shared/data/cifar-10-binary-train.tar.gz, else the cache / download.`, {});

const SHARED = process.env.INSIGHT_SHARED_DATA
  ? nodePath.join(process.env.INSIGHT_SHARED_DATA, 'cifar-10-binary-train.tar.gz')
  : nodePath.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz');
const BATCH = 64;
const STEP_MS = 25;
const STALL_BATCHES = 40;

/** Images per second over one full epoch (epoch 1, after a warm-up that starts the workers). */
async function throughput(loader: DataLoader): Promise<number> {
  let warm = 0;
  for await (const _ of loader.epoch(0)) if (++warm === 20) break;
  const start = performance.now();
  let images = 0;
  for await (const batch of loader.epoch(1)) images += batch.size;
  return images / ((performance.now() - start) / 1000);
}

/**
 * Median milliseconds the consumer waits for a batch when each step busies the main thread for STEP_MS
 * (median, because on a shared machine a few steps are delayed by other processes whatever the pipeline).
 */
async function waitPerBatch(loader: DataLoader): Promise<number> {
  const waits: number[] = [];
  const it = loader.epoch(2);
  for (let i = 0; i <= STALL_BATCHES; i++) {
    const t = performance.now();
    const next = await it.next();
    if (i > 0) waits.push(performance.now() - t); // the first batch of an epoch is never prefetched
    if (next.done) break;
    const end = performance.now() + STEP_MS;
    while (performance.now() < end); // stands in for a synchronous training step
  }
  await it.return?.();
  waits.sort((a, b) => a - b);
  return waits[waits.length >> 1];
}

async function main(): Promise<void> {
  const path = process.env.INSIGHT_CIFAR10 ?? (existsSync(SHARED) ? SHARED : undefined);
  await loadCifar10({ path }); // extracts once into the cache on the very first run
  const t = performance.now();
  const ds: ImageDataset = await loadCifar10({ path });
  const loadMs = performance.now() - t;

  const pipelines: [string, AugmentConfig][] = [
    ['reference (scale, batch 64, shuffle)', {}],
    ['+ crop 4, flip, cutout 16', { randomCrop: { padding: 4 }, horizontalFlip: true, cutout: { size: 16 } }],
  ];
  console.log(`CIFAR-10 train: ${ds.count} images loaded from extracted files in ${loadMs.toFixed(0)} ms; `
    + `node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), load avg ${os.loadavg()[0].toFixed(1)}\n`);
  console.log('| pipeline | workers | images/s | x 2,500 img/s | median wait per batch, 25 ms steps |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, augment] of pipelines) {
    for (const workers of [0, 1, 2]) {
      const loader = new DataLoader(ds, { batchSize: BATCH, shuffle: true, seed: 0, augment, normalization: { kind: 'scale' }, workers });
      const rate = await throughput(loader);
      const wait = await waitPerBatch(loader);
      await loader.close();
      console.log(`| ${name} | ${workers} | ${Math.round(rate).toLocaleString('en-US')} | ${(rate / 2500).toFixed(0)}x | ${wait.toFixed(2)} ms |`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
