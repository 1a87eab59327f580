// The decision of `--workers auto`: how many workers a server should run, from what its workers report. Pure (no
// timers, no processes): the cluster primary (lifecycle/cluster.ts) feeds it one Observation per poll and applies
// the Decision it returns, so the rule can be tested with synthetic inputs.
//
// Rule: scale up by one when the mean queue depth per worker, or the worst recent p95 latency, stays above its
// high threshold for `upAfter` consecutive polls; scale down by one when both stay below their low thresholds
// for `downAfter` polls. The gap between the high and low thresholds (hysteresis) and a cooldown after every
// change keep it from flapping; the count never leaves [minWorkers, maxWorkers].

export interface AutoscalerOptions {
  minWorkers: number;
  maxWorkers: number;
  /** Mean queue depth per worker (requests in flight + instances queued) above which the pool is busy. */
  queueHigh: number;
  /** ... and below which it is idle (queueLow < queueHigh). */
  queueLow: number;
  /** Recent p95 request latency (ms) above which the pool is busy; null = latency is not a signal. */
  latencyHighMs: number | null;
  /** ... and below which it may be idle. */
  latencyLowMs: number | null;
  /** Consecutive busy polls before adding a worker. */
  upAfter: number;
  /** Consecutive idle polls before removing one. */
  downAfter: number;
  /** Polls after a change during which no other change happens (the new worker needs time to take load). */
  cooldown: number;
}

/** Defaults for a real server polled every second: up after 3 busy seconds, down after 30 idle ones. */
export const AUTOSCALE_DEFAULTS: Omit<AutoscalerOptions, 'minWorkers' | 'maxWorkers'> = {
  queueHigh: 4, queueLow: 0.5, latencyHighMs: 500, latencyLowMs: 100, upAfter: 3, downAfter: 30, cooldown: 5,
};

/** One poll of the pool: one entry per live worker. */
export interface WorkerLoad {
  /** Requests in flight + instances waiting in its batching queues. */
  queueDepth: number;
  /** p95 latency (ms) of the requests it answered since the previous poll; null when it answered none. */
  p95Ms: number | null;
}

export interface Decision {
  /** +1 add a worker, -1 remove one, 0 keep. */
  change: -1 | 0 | 1;
  /** Why (for the log line): 'queue 5.0 > 4 for 3 polls', 'idle for 30 polls', 'cooldown', 'at max' ... */
  reason: string;
  meanQueueDepth: number;
}

export class Autoscaler {
  private busyStreak = 0;
  private idleStreak = 0;
  private cooldownLeft = 0;

  constructor(readonly options: AutoscalerOptions) {
    const o = options;
    if (!(Number.isInteger(o.minWorkers) && o.minWorkers >= 1 && Number.isInteger(o.maxWorkers) && o.maxWorkers >= o.minWorkers)) {
      throw new Error(`An autoscaler needs 1 <= minWorkers <= maxWorkers. Received: minWorkers=${o.minWorkers}, maxWorkers=${o.maxWorkers}. Raise --max-workers.`);
    }
    if (!(o.queueLow < o.queueHigh) || (o.latencyHighMs !== null && o.latencyLowMs !== null && !(o.latencyLowMs < o.latencyHighMs))) {
      throw new Error(`An autoscaler's low thresholds must be below its high ones. Received: queueLow=${o.queueLow}, queueHigh=${o.queueHigh}, ` +
        `latencyLowMs=${o.latencyLowMs}, latencyHighMs=${o.latencyHighMs}.`);
    }
  }

  /** The number of workers to start with. */
  get initialWorkers(): number {
    return this.options.minWorkers;
  }

  /** One poll: `workers` is the current count (live workers), `loads` what they reported. */
  observe(workers: number, loads: readonly WorkerLoad[]): Decision {
    const o = this.options;
    const meanQueueDepth = loads.length === 0 ? 0 : loads.reduce((sum, l) => sum + l.queueDepth, 0) / loads.length;
    const latencies = loads.map((l) => l.p95Ms).filter((p): p is number => p !== null);
    const p95 = latencies.length === 0 ? null : Math.max(...latencies);
    const slow = o.latencyHighMs !== null && p95 !== null && p95 > o.latencyHighMs;
    const quick = o.latencyLowMs === null || p95 === null || p95 < o.latencyLowMs;
    const busy = meanQueueDepth > o.queueHigh || slow;
    const idle = meanQueueDepth < o.queueLow && quick;
    this.busyStreak = busy ? this.busyStreak + 1 : 0;
    this.idleStreak = idle ? this.idleStreak + 1 : 0;
    const keep = (reason: string): Decision => ({ change: 0, reason, meanQueueDepth });
    // Out of bounds (a crashed worker not yet replaced, or new bounds): move back inside at once.
    if (workers < o.minWorkers) return this.changed(1, `below --min-workers ${o.minWorkers}`, meanQueueDepth);
    if (workers > o.maxWorkers) return this.changed(-1, `above --max-workers ${o.maxWorkers}`, meanQueueDepth);
    if (this.cooldownLeft > 0) {
      // The change needs time to show in the load: streaks start after the cooldown.
      this.cooldownLeft--;
      this.busyStreak = 0;
      this.idleStreak = 0;
      return keep('cooldown');
    }
    if (this.busyStreak >= o.upAfter) {
      if (workers >= o.maxWorkers) return keep('busy, at --max-workers');
      const why = slow ? `p95 ${p95!.toFixed(0)} ms > ${o.latencyHighMs} ms` : `queue ${meanQueueDepth.toFixed(1)} > ${o.queueHigh}`;
      return this.changed(1, `${why} for ${this.busyStreak} polls`, meanQueueDepth);
    }
    if (this.idleStreak >= o.downAfter) {
      if (workers <= o.minWorkers) return keep('idle, at --min-workers');
      return this.changed(-1, `idle (queue ${meanQueueDepth.toFixed(1)} < ${o.queueLow}) for ${this.idleStreak} polls`, meanQueueDepth);
    }
    return keep(busy ? 'busy' : idle ? 'idle' : 'steady');
  }

  private changed(change: 1 | -1, reason: string, meanQueueDepth: number): Decision {
    this.busyStreak = 0;
    this.idleStreak = 0;
    this.cooldownLeft = this.options.cooldown;
    return { change, reason, meanQueueDepth };
  }
}
