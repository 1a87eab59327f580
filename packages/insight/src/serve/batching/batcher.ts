// Dynamic batching for one model version: concurrent requests wait in a bounded queue and share forward
// passes. A batch runs when it is full (maxBatchSize instances), when its oldest request has waited
// maxQueueDelayMs, or — with a delay of 0 — as soon as the event loop has taken in what already arrived.
// One forward pass runs at a time; what queues up meanwhile forms the next batch, so under load batches grow
// by themselves. Under load a pass computes off the event loop, and when the next batch is under load too it starts
// as soon as the pass ends, before that pass's answers are written, so parsing, answering and computing overlap.
// A full queue rejects at once (503 + Retry-After), a request past its deadline gets 504, and close() lets
// everything queued finish.
import { serveError } from '../../errors';

/**
 * One forward pass: x [rows, ...inputShape] (row-major) → both outputs, [rows, numClasses] each. `underLoad`: more
 * than one request is in or waiting for this pass, so the pass should compute off the event loop where it can (the
 * loop then takes in the next requests meanwhile); a lone request is answered soonest by computing inline.
 */
export type ForwardFn = (x: Float32Array, rows: number, underLoad: boolean) => Promise<BatchOutput> | BatchOutput;

export interface BatchOutput {
  logits: Float32Array;
  probabilities: Float32Array;
}

export interface BatcherOptions {
  /** Most instances per forward pass (1 = every request alone, i.e. no batching). */
  maxBatchSize: number;
  /** Longest wait for more requests before a partial batch runs. */
  maxQueueDelayMs: number;
  /** Most instances waiting; beyond it submit() rejects with SERVE_E_OVERLOADED. */
  maxQueueSize: number;
  /** Deadline of a request from submit() to its result; SERVE_E_TIMEOUT after it. */
  timeoutMs: number;
}

/** What the batcher reports (metrics). */
export interface BatchObserver {
  onBatch?(rows: number, forwardSeconds: number): void;
  onQueueWait?(seconds: number): void;
  /** Every forward pass's input and output (x: [rows, ...inputShape]), e.g. for drift monitoring, called on the next
   * turn of the event loop once the batch's requests are answered; must not keep x. */
  onOutputs?(x: Float32Array, rows: number, output: BatchOutput): void;
}

interface Pending {
  x: Float32Array;
  rows: number;
  enqueuedMs: number;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve(output: BatchOutput): void;
  reject(error: Error): void;
}

/**
 * Example: `const b = new DynamicBatcher(forward, 32*32*3, 10, { maxBatchSize: 32, maxQueueDelayMs: 1,
 * maxQueueSize: 256, timeoutMs: 10000 }); const { probabilities } = await b.submit(x, 1);`
 */
export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private queuedRowCount = 0;
  private running = false;
  private closed = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private drainWaiters: (() => void)[] = [];
  /** Seconds per instance of recent passes (exponential average), for Retry-After. */
  private secondsPerRow = 0.001;
  /** Forward passes run, instances computed, largest batch: for tests and logs. */
  readonly stats = { passes: 0, rows: 0, largestBatch: 0 };

  constructor(
    private readonly forward: ForwardFn,
    /** Floats per instance, e.g. 32*32*3. */
    readonly rowSize: number,
    /** Floats per output row (number of classes). */
    readonly numClasses: number,
    readonly options: BatcherOptions,
    private readonly observer: BatchObserver = {},
    /** Names the model in error messages. */
    private readonly label = 'model',
  ) {}

  /** Instances waiting (not yet in a forward pass). */
  get queuedRows(): number {
    return this.queuedRowCount;
  }

  /** Queues `rows` instances (x: [rows, rowSize]) and resolves with their outputs. */
  submit(x: Float32Array, rows: number): Promise<BatchOutput> {
    if (this.closed) {
      return Promise.reject(serveError('SERVE_E_MODEL_UNAVAILABLE', 'A model version that is being unloaded takes no new requests.',
        { model: this.label }, 'Retry: the request goes to the version that replaced it.', { retryAfter: 1 }));
    }
    if (this.queuedRowCount + rows > this.options.maxQueueSize) {
      const wait = (this.queuedRowCount + rows) * this.secondsPerRow;
      return Promise.reject(serveError('SERVE_E_OVERLOADED', `The inference queue of a model holds at most ${this.options.maxQueueSize} instances.`,
        { model: this.label, queued: this.queuedRowCount, requested: rows }, 'Retry after the Retry-After seconds, send fewer instances, or raise --max-queue-size / add --workers.',
        { retryAfter: wait }));
    }
    return new Promise<BatchOutput>((resolve, reject) => {
      const pending: Pending = {
        x, rows, enqueuedMs: performance.now(), settled: false, resolve, reject,
        timer: setTimeout(() => this.expire(pending), this.options.timeoutMs),
      };
      this.queue.push(pending);
      this.queuedRowCount += rows;
      this.schedule();
    });
  }

  /** Stops taking requests; resolves when everything queued has run. */
  close(): Promise<void> {
    this.closed = true;
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && !this.running;
  }

  private expire(pending: Pending): void {
    if (pending.settled) return;
    pending.settled = true;
    const index = this.queue.indexOf(pending);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.queuedRowCount -= pending.rows;
      this.notifyIfDrained();
    }
    const waited = Math.round(performance.now() - pending.enqueuedMs);
    pending.reject(serveError('SERVE_E_TIMEOUT', `An inference must finish within --timeout-ms=${this.options.timeoutMs} ms.`,
      { model: this.label, waitedMs: waited, instances: pending.rows, stage: index >= 0 ? 'queued' : 'forward pass' },
      'Retry later, send fewer instances per request, or raise --timeout-ms.'));
  }

  /**
   * Decides when the next batch runs. `now`: the event loop has taken in what arrived during the last pass (it
   * computed off the loop) and the next pass computes off the loop too, so a ready batch starts at once; else after
   * the current I/O phase, so that requests that arrived in it join the batch.
   */
  private schedule(now = false): void {
    if (this.running || this.queue.length === 0) return;
    const { maxBatchSize, maxQueueDelayMs } = this.options;
    const waited = performance.now() - this.queue[0].enqueuedMs;
    if (this.queuedRowCount >= maxBatchSize || waited >= maxQueueDelayMs) {
      if (now) void this.flush();
      else this.immediate ??= setImmediate(() => this.flush());
      return;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), maxQueueDelayMs - waited);
  }

  private async flush(): Promise<void> {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.flushTimer = null;
    this.immediate = null;
    if (this.running || this.queue.length === 0) return;
    const batch = this.take();
    const rows = batch.reduce((sum, p) => sum + p.rows, 0);
    const underLoad = batch.length > 1 || this.queue.length > 0;
    this.running = true;
    const startMs = performance.now();
    for (const p of batch) this.observer.onQueueWait?.((startMs - p.enqueuedMs) / 1000);
    let x: Float32Array;
    let output: BatchOutput;
    try {
      x = batch.length === 1 ? batch[0].x : concat(batch, rows * this.rowSize);
      output = await this.forward(x, rows, underLoad);
    } catch (error) {
      this.running = false;
      for (const p of batch) this.settle(p, () => p.reject(error as Error));
      this.notifyIfDrained();
      this.schedule();
      return;
    }
    this.running = false;
    // A pass under load computed off the loop; when the next batch is under load too (its pass computes off the loop,
    // so starting it costs little), it starts now and computes while this one's answers are written. A lone
    // request's pass runs inline: it waits for the next turn of the loop, after these answers.
    this.schedule(underLoad && this.queue.length > 1);
    const seconds = (performance.now() - startMs) / 1000;
    this.secondsPerRow = 0.8 * this.secondsPerRow + 0.2 * (seconds / rows);
    this.stats.passes++;
    this.stats.rows += rows;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, rows);
    this.observer.onBatch?.(rows, seconds);
    // Monitoring (drift) reads the batch after its requests are answered, off their latency path.
    if (this.observer.onOutputs !== undefined) setImmediate(() => this.observer.onOutputs?.(x, rows, output));
    let offset = 0;
    for (const p of batch) {
      const span = [offset * this.numClasses, (offset + p.rows) * this.numClasses] as const;
      offset += p.rows;
      this.settle(p, () => p.resolve({ logits: output.logits.slice(...span), probabilities: output.probabilities.slice(...span) }));
    }
    this.notifyIfDrained();
  }

  /** Dequeues whole requests up to maxBatchSize instances (at least one request, however large). */
  private take(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].rows <= this.options.maxBatchSize)) {
      const p = this.queue.shift()!;
      rows += p.rows;
      batch.push(p);
    }
    this.queuedRowCount -= rows;
    return batch;
  }

  private settle(p: Pending, action: () => void): void {
    clearTimeout(p.timer);
    if (p.settled) return;
    p.settled = true;
    action();
  }

  private notifyIfDrained(): void {
    if (!this.closed || !this.isIdle()) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}

function concat(batch: Pending[], length: number): Float32Array {
  const x = new Float32Array(length);
  let offset = 0;
  for (const p of batch) {
    x.set(p.x, offset);
    offset += p.x.length;
  }
  return x;
}
