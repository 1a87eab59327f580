// Builders for test data: tiny CIFAR-10 batch folders and archives with known pixels, temp folders.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageDataset } from '../../src/data';

export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const tempDirs: string[] = [];
process.on('exit', () => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A fresh temp folder, removed when the test process exits. */
export function tempDir(prefix = 'insight-data-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The known value of channel c of pixel p (0..1023, row-major) in record `r` of a generated batch. */
export function pixel(record: number, p: number, c: number): number {
  return (record * 7 + p * 3 + c * 101) % 256;
}

/** A CIFAR-10 batch file's bytes: `count` records numbered from `first`, label (first + i) % 10, CHW planes. */
export function cifarBatch(first: number, count: number): Buffer {
  const buf = Buffer.alloc(count * 3073);
  for (let i = 0; i < count; i++) {
    const r = first + i;
    buf[i * 3073] = r % 10;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) buf[i * 3073 + 1 + c * 1024 + p] = pixel(r, p, c);
    }
  }
  return buf;
}

/** Per train batch file, how many records the tiny folder holds (10 in all), and the test batch size. */
export const TINY_TRAIN = [3, 2, 2, 1, 2];
export const TINY_TEST = 4;

/**
 * Writes <root>/cifar-10-batches-bin with 5 tiny train batches (records 0..9 in file order), optionally a
 * test batch (records 100..103), and batches.meta.txt. Returns the cifar-10-batches-bin path.
 */
export function writeTinyCifar(root: string, withTest = true): string {
  const dir = path.join(root, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  let first = 0;
  TINY_TRAIN.forEach((n, i) => {
    writeFileSync(path.join(dir, `data_batch_${i + 1}.bin`), cifarBatch(first, n));
    first += n;
  });
  if (withTest) writeFileSync(path.join(dir, 'test_batch.bin'), cifarBatch(100, TINY_TEST));
  writeFileSync(path.join(dir, 'batches.meta.txt'), CLASS_NAMES.join('\n') + '\n\n');
  return dir;
}

/** Fixed metadata so archives of the same files are byte-identical (GNU tar). */
export const REPRODUCIBLE_TAR = ['--sort=name', '--mtime=2020-01-01 00:00Z', '--owner=0', '--group=0', '--numeric-owner'];

/** Packs <root>/cifar-10-batches-bin into <root>/<name> with the system tar (an independent writer). */
export function packTinyCifar(root: string, name = 'cifar-10-binary.tar.gz', format = 'gnu'): string {
  const archive = path.join(root, name);
  execFileSync('tar', [...REPRODUCIBLE_TAR, `--format=${format}`, '-czf', archive, '-C', root, 'cifar-10-batches-bin']);
  return archive;
}

/** A dataset of `count` height×width images where every byte of image i is (i * 16 + offset) & 255. */
export function indexDataset(count: number, height = 4, width = 4, classes = 3): ImageDataset {
  const stride = height * width * 3;
  const images = new Uint8Array(count * stride);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % classes;
    for (let j = 0; j < stride; j++) images[i * stride + j] = (i * 16 + j) & 255;
  }
  return { images, labels, count, height, width, channels: 3, classNames: Array.from({ length: classes }, (_, c) => `c${c}`) };
}

/** Collects every batch of one epoch. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(b);
  return out;
}
