// An ONNX Runtime session on its own worker thread (onnx_worker.ts). onnxruntime-node's run() is async in name
// only: the native run blocks the thread that calls it. On a worker it blocks that worker, and the server's event
// loop keeps parsing, batching and answering requests while a batch computes. Inputs are copied to the worker
// (a batch is small next to its forward pass); logits come back. A worker keeps the process alive only while it
// has work, so a forgotten dispose() never hangs the exit.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

interface Pending { resolve: (logits: Float32Array) => void; reject: (e: Error) => void }

type Reply =
  | { kind: 'ready'; inputShape: number[]; outputShape: number[] }
  | { kind: 'failed'; error: string }
  | { kind?: undefined; id: number; logits?: Float32Array; error?: string };

/**
 * The worker script beside this file: onnx_worker.ts when running from sources (loaded through tsx's CommonJS
 * hook), else onnx_worker.js.
 */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `onnx_worker${ext}`);
  return ext === '.ts' ? { file, execArgv: ['--require', require.resolve('tsx/cjs')] } : { file, execArgv: [] };
}

/**
 * Example: `const t = await OnnxThread.start(fs.readFileSync('model.onnx'), 1); const logits = await t.predict(x, 8);
 * await t.dispose();`
 */
export class OnnxThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private exited: Promise<void>;

  private constructor(private readonly worker: Worker,
    /** Input shape without the batch dimension: [height, width, channels] (-1 for a symbolic dimension). */
    readonly inputShape: number[],
    /** Output shape without the batch dimension, e.g. [numClasses]. */
    readonly outputShape: number[]) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: Reply) => {
      if (reply.kind !== undefined) return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.settle(reply.id);
      if (reply.logits) p.resolve(reply.logits);
      else p.reject(new Error(reply.error));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`An ONNX Runtime worker thread exited (code ${code}).`)));
    worker.unref();
  }

  /** Loads the model (ONNX Runtime, `threads` intra-op threads) on a new thread; rejects with the load error. */
  static start(bytes: Uint8Array, threads?: number): Promise<OnnxThread> {
    const { file, execArgv } = workerEntry();
    const worker = new Worker(file, { execArgv, workerData: { bytes, threads } });
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        void worker.terminate();
        reject(error);
      };
      // A worker that dies before it answers (out of memory, a native crash) fails the load instead of leaving it hanging.
      const exited = (code: number) => fail(new Error(`An ONNX Runtime worker thread exited (code ${code}) before the model was loaded.`));
      worker.once('message', (reply: Reply) => {
        worker.off('error', fail);
        worker.off('exit', exited);
        if (reply.kind === 'ready') resolve(new OnnxThread(worker, reply.inputShape, reply.outputShape));
        else fail(new Error(reply.kind === 'failed' ? reply.error : 'An ONNX Runtime worker answered before it was ready.'));
      });
      worker.once('error', fail);
      worker.once('exit', exited);
    });
  }

  /** x: [rows, ...inputShape] float32 → the output [rows, ...outputShape], computed on the worker. */
  predict(x: Float32Array, rows: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, x, rows });
    });
  }

  /** Releases the session and ends the thread (pending predictions fail). Safe to call twice. */
  async dispose(): Promise<void> {
    const live = this.failure === null;
    this.failAll(new Error('The ONNX Runtime session was released.'));
    if (live) {
      this.worker.ref(); // until it has exited
      this.worker.postMessage({ kind: 'dispose' });
    }
    await this.exited;
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(error);
    }
  }
}
