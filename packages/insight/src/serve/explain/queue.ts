// The explanation queue of one server process: explanations are heavy (a request may cost thousands of gradient
// passes), so they do not go through the models' inference batchers — they would sit in front of predictions in the
// same queue and count against --max-queue-size. They run here instead, one job at a time (memory: one job's
// tensors; the job reads the served model itself), in FIFO order, while inference keeps its own queues: a job's
// methods yield to the event loop between passes of at most --max-batch-size rows, so inference batches run between.
// Bounds: waiting work at most `maxWaitingWork` passes (SERVE_E_OVERLOADED + Retry-After beyond it), and a job
// that has not started within `timeoutMs` is dropped (SERVE_E_TIMEOUT); a started job runs to its end.
import { serveError } from '../../errors';

interface Job {
  work: number;
  label: string;
  enqueuedMs: number;
  timer: NodeJS.Timeout;
  start(): void;
  reject(error: Error): void;
}

export interface ExplainQueueOptions {
  /** Most model passes waiting (not yet started). */
  maxWaitingWork: number;
  /** Longest wait before a job starts. */
  timeoutMs: number;
}

/**
 * Example: `const queue = new ExplainQueue({ maxWaitingWork: 16384, timeoutMs: 10000 });
 * const maps = await queue.run(204, 'cifar/1', () => computeMaps())`.
 */
export class ExplainQueue {
  private readonly waiting: Job[] = [];
  private waitingWorkCount = 0;
  private runningWork = 0;
  private running = false;
  /** Seconds per pass of recent jobs (exponential average), for Retry-After. */
  private secondsPerWork = 0.002;
  /** Jobs run, passes computed: for tests and logs. */
  readonly stats = { jobs: 0, work: 0 };

  constructor(readonly options: ExplainQueueOptions) {}

  /** Passes waiting to start. */
  get waitingWork(): number {
    return this.waitingWorkCount;
  }

  /** Passes of the job running now (0 when idle). */
  get activeWork(): number {
    return this.runningWork;
  }

  /** Runs `fn` when every job queued before it has finished; `work` is its cost in passes, `label` names it in errors. */
  run<T>(work: number, label: string, fn: () => Promise<T>): Promise<T> {
    const busy = this.running || this.waiting.length > 0;
    if (busy && this.waitingWorkCount + work > this.options.maxWaitingWork) {
      return Promise.reject(serveError('SERVE_E_OVERLOADED', `The explanation queue holds at most ${this.options.maxWaitingWork} model passes of waiting work (4 x --explain-max-work).`,
        { model: label, waiting: this.waitingWorkCount, requested: work }, 'Retry after the Retry-After seconds, or send smaller explanation requests.',
        { retryAfter: (this.runningWork + this.waitingWorkCount + work) * this.secondsPerWork }));
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        work, label, enqueuedMs: performance.now(), reject,
        timer: setTimeout(() => this.expire(job), this.options.timeoutMs),
        start: () => {
          const started = performance.now();
          fn().then(resolve, reject).finally(() => {
            this.secondsPerWork = 0.8 * this.secondsPerWork + 0.2 * ((performance.now() - started) / 1000 / Math.max(1, work));
            this.stats.jobs++;
            this.stats.work += work;
            this.running = false;
            this.runningWork = 0;
            this.next();
          });
        },
      };
      this.waiting.push(job);
      this.waitingWorkCount += work;
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    const job = this.waiting.shift();
    if (job === undefined) return;
    clearTimeout(job.timer);
    this.waitingWorkCount -= job.work;
    this.running = true;
    this.runningWork = job.work;
    job.start();
  }

  private expire(job: Job): void {
    const index = this.waiting.indexOf(job);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    this.waitingWorkCount -= job.work;
    job.reject(serveError('SERVE_E_TIMEOUT', `An explanation must start within --timeout-ms=${this.options.timeoutMs} ms.`,
      { model: job.label, waitedMs: Math.round(performance.now() - job.enqueuedMs), work: job.work, waitingAhead: index },
      'Retry later, send smaller explanation requests, or raise --timeout-ms.'));
  }
}
