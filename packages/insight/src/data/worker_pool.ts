// A fixed set of loader worker threads. Requests go round-robin by batch number, replies are matched by id.
// A worker keeps the process alive only while it has work, so a forgotten close() never hangs the exit.
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { BatchRecipe } from './batch_renderer';

/**
 * The worker script beside this file: loader_worker.ts when running from sources (loaded through tsx's
 * CommonJS hook, resolved to an absolute path so any working directory works), else loader_worker.js.
 */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `loader_worker${ext}`);
  return ext === '.ts' ? { file, execArgv: ['--require', require.resolve('tsx/cjs')] } : { file, execArgv: [] };
}

interface Pending { resolve: (x: Float32Array) => void; reject: (e: Error) => void }

/** One thread and the requests it has not answered yet. */
class LoaderThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(images: Uint8Array, recipe: BatchRecipe) {
    const { file, execArgv } = workerEntry();
    this.worker = new Worker(file, {
      execArgv,
      workerData: { buffer: images.buffer, byteOffset: images.byteOffset, length: images.length, recipe },
    });
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; x?: Float32Array; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.settle(msg.id);
      if (msg.x) p.resolve(msg.x);
      else p.reject(new Error(`A data loader worker failed: ${msg.error}`));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`A data loader worker exited (code ${code}).`)));
  }

  render(id: number, epoch: number, batch: number, indices: Uint32Array, offset: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, epoch, batch, indices, offset }, [indices.buffer as ArrayBuffer]);
    });
  }

  terminate(): Promise<number> {
    this.failAll(new Error('The data loader was closed.'));
    return this.worker.terminate();
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(err);
    }
  }
}

/** `size` threads rendering batches of the images on a SharedArrayBuffer. */
export class WorkerPool {
  private readonly threads: LoaderThread[];
  private nextId = 0;

  constructor(images: Uint8Array, recipe: BatchRecipe, size: number) {
    if (!(images.buffer instanceof SharedArrayBuffer)) throw new Error('WorkerPool needs images on a SharedArrayBuffer.');
    this.threads = Array.from({ length: size }, () => new LoaderThread(images, recipe));
  }

  /** Renders batch `batch` of `epoch` from record `indices` (at `offset` in the whole batch) on thread batch % size. */
  render(epoch: number, batch: number, indices: Uint32Array, offset = 0): Promise<Float32Array> {
    return this.threads[batch % this.threads.length].render(this.nextId++, epoch, batch, indices, offset);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
