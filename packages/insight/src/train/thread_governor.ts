// The thread count of libtorch's intra-op pool while fit() trains, adapted to contention (issue 10). The pool's
// OpenMP threads meet at a barrier after every parallel region; when another busy process holds a core, every region
// waits for the thread that shares it, so all threads fall far below one (2 cores, reference CNN, batch 64,
// benchmarks/contention.ts: 2 threads ~2,000-2,570 img/s quiet but ~740 next to one busy process; 1 thread ~1,580
// quiet and ~1,560 contended). OMP_WAIT_POLICY=PASSIVE keeps ~1,270 contended but costs 35-50% quiet, so the count
// adapts at run time instead: every core while the machine is quiet, fewer while another process competes.
//
// ThreadPolicy is the decision alone (seconds per image in, thread counts out: pure and deterministic);
// ThreadGovernor applies it to the pool around fit(), counts the threads each epoch used, and puts back the count
// fit() started with. It stays out of the way where the count is chosen by someone: INSIGHT_TORCH_THREADS set, a
// data-parallel rank (the launcher gives each worker its share of the cores), or adaptiveThreads false.
import * as torchBackend from '@insight/tfjs-backend-torch';

import { tf } from '../backend';

/** How ThreadPolicy probes and decides; THREAD_POLICY holds the values fit() uses (and why). */
export interface ThreadPolicySettings {
  /** Updates at the start count before the first probe (a run that starts contended adapts within seconds). */
  firstProbeAfter: number;
  /** Updates between probes after a switch; each probe that keeps the count doubles it, up to maxProbeEvery. */
  probeEvery: number;
  maxProbeEvery: number;
  /** Updates a probe runs at the candidate count. */
  probeLength: number;
  /** A probe compares with the median of the latest this-many updates before it. */
  window: number;
  /** The median of this many latest updates at least (1 + minGain) x the last decision's: conditions changed, probe now. */
  driftWindow: number;
  /** A candidate is kept when its median time per image is at least this fraction below the window's (hysteresis). */
  minGain: number;
}

/**
 * Why these values (2 cores, the figures above). Quiet, a probe's 6 updates at 1 thread instead of 2 cost 6 x 0.27-0.6
 * update-times (1/1,580 against 1/2,000-1/2,570 s an image): probes after update 16, then 64, 128 and 256 updates
 * apart cost ~1.5% of a CIFAR-10 epoch's 704 updates and ~1% from the fourth on. Contended and settled at 1, a probe
 * of 2 threads costs 6 x ~1.1: ~2.5% at the 256-update interval. The 10% hysteresis is above the spread of a median
 * of a quiet run's updates (a few %) and well below the gains (quiet, 2 threads ~20-40% less time per image than 1;
 * contended, 1 thread ~50% less than 2). The window of 12 leaves the first probe's median without the first 4
 * updates (graph building, warm-up). A median of the latest 8 updates 10% above the last decision's (a process
 * started) probes at once, so the doubled interval does not delay adapting to contention that begins mid-run.
 */
export const THREAD_POLICY: Readonly<ThreadPolicySettings> = Object.freeze({
  firstProbeAfter: 16, probeEvery: 64, maxProbeEvery: 256, probeLength: 6, window: 12, driftWindow: 8, minGain: 0.1,
});

/** A probe's candidate was kept: the count went from `from` to `to`, taking `gain` (0.5 = 50%) less time per image. */
export interface ThreadSwitch {
  from: number;
  to: number;
  gain: number;
}

/** What to run the next update at; `switched` when a probe just won. */
export interface ThreadDecision {
  threads: number;
  switched: ThreadSwitch | null;
}

/**
 * Chooses the thread count, 1 .. maxThreads, from the time per image of each optimizer update. It settles on a count
 * and now and then probes a neighbour for a few updates: one fewer from maxThreads, one more from 1, and between them
 * first on in the direction of the last switch, then the other way in turn. The neighbour is kept when its median time
 * per image beats the median of the updates before the probe by minGain, else the settled count returns. On 2 cores
 * the neighbours are 2 and 1.
 * Example: `const policy = new ThreadPolicy(2); for (...) threads = policy.record(secondsPerImage).threads;`.
 */
export class ThreadPolicy {
  private settled: number;
  private current: number;
  /** Seconds per image at `settled` since the last decision (the latest `window`). */
  private steady: number[] = [];
  /** During a probe: its candidate count, the window's median and the candidate's seconds per image. */
  private probe: { candidate: number; baseline: number; times: number[] } | null = null;
  private untilProbe: number;
  /** Probes that kept the count since the last switch (each doubles the interval). */
  private kept = 0;
  /** The median time per image at `settled` when last decided (null before the first probe). */
  private reference: number | null = null;
  private downNext = true;

  constructor(readonly maxThreads: number, private readonly settings: Readonly<ThreadPolicySettings> = THREAD_POLICY) {
    this.settled = maxThreads;
    this.current = maxThreads;
    this.untilProbe = settings.firstProbeAfter;
  }

  /** The count to run the next update at. */
  get threads(): number {
    return this.current;
  }

  /** Records one update run at `threads`, taking `secondsPerImage`; returns the count for the next update. */
  record(secondsPerImage: number): ThreadDecision {
    return this.probe ? this.recordProbe(this.probe, secondsPerImage) : this.recordSteady(secondsPerImage);
  }

  private recordSteady(seconds: number): ThreadDecision {
    const { window, driftWindow, minGain } = this.settings;
    this.steady.push(seconds);
    if (this.steady.length > window) this.steady.shift();
    this.untilProbe--;
    const recent = this.steady.length >= driftWindow ? median(this.steady.slice(-driftWindow)) : null;
    const drifted = this.reference !== null && recent !== null && recent >= this.reference * (1 + minGain);
    const candidate = this.candidate();
    if ((this.untilProbe <= 0 || drifted) && candidate !== null) {
      // After a drift the window still holds updates from before it: compare with the recent ones.
      this.probe = { candidate, baseline: drifted ? recent : median(this.steady), times: [] };
      this.current = candidate;
    }
    return { threads: this.current, switched: null };
  }

  private recordProbe(probe: { candidate: number; baseline: number; times: number[] }, seconds: number): ThreadDecision {
    const { probeLength, probeEvery, maxProbeEvery, minGain } = this.settings;
    probe.times.push(seconds);
    if (probe.times.length < probeLength) return { threads: this.current, switched: null };
    const measured = median(probe.times);
    const gain = 1 - measured / probe.baseline;
    let switched: ThreadSwitch | null = null;
    if (gain >= minGain) {
      switched = { from: this.settled, to: probe.candidate, gain };
      this.downNext = probe.candidate < this.settled; // on in the same direction first
      this.settled = probe.candidate;
      this.reference = measured;
      this.kept = 0;
    } else {
      this.downNext = !this.downNext; // the other neighbour next (1 and maxThreads have one only)
      this.reference = probe.baseline;
      this.kept++;
    }
    this.probe = null;
    this.steady = [];
    this.current = this.settled;
    this.untilProbe = Math.min(probeEvery * 2 ** Math.max(0, this.kept - 1), maxProbeEvery);
    return { threads: this.current, switched };
  }

  /** The neighbour to probe next, or null when there is none (maxThreads 1). */
  private candidate(): number | null {
    const down = this.settled > 1 ? this.settled - 1 : null;
    const up = this.settled < this.maxThreads ? this.settled + 1 : null;
    if (down !== null && up !== null) return this.downNext ? down : up;
    return down ?? up;
  }
}

/** libtorch's intra-op pool as the governor uses it. */
export interface ThreadPool {
  get(): number;
  set(threads: number): void;
}

export interface ThreadGovernorOptions {
  /** Adapt the count (the config's adaptiveThreads); false keeps it fixed. */
  adaptive: boolean;
  /** A data-parallel rank: its count is the launcher's. */
  parallel: boolean;
  /** Where a switch is announced (the progress output). */
  note?: (line: string) => void;
  /** INSIGHT_TORCH_THREADS and WORLD_SIZE are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * ThreadPolicy applied to libtorch's pool during fit(), timing each optimizer update with the wall clock (data
 * loading and callbacks included: the throughput a run gets). Also counts the updates of the epoch at each count.
 * Example: `const governor = ThreadGovernor.forFit({ adaptive: true, parallel: false }); try { governor?.epochStart();
 *   ...each update: governor?.afterUpdate(images)...; logs.threads = governor?.epochThreads(); } finally { governor?.restore(); }`.
 */
export class ThreadGovernor {
  /** The count fit() started with (put back by restore()). */
  readonly started: number;
  private threads: number;
  private last = performance.now();
  /** Updates of the current epoch by thread count. */
  private readonly counts = new Map<number, number>();

  constructor(private readonly pool: ThreadPool, private readonly policy: ThreadPolicy | null, private readonly note?: (line: string) => void) {
    this.threads = pool.get();
    this.started = this.threads;
  }

  /**
   * The governor of a fit() on the active backend, or null when it has no thread pool (cpu). It adapts only when
   * asked, with more than one thread, INSIGHT_TORCH_THREADS unset and outside data parallel (WORLD_SIZE > 1).
   */
  static forFit(options: ThreadGovernorOptions): ThreadGovernor | null {
    if (tf.getBackend() !== torchBackend.BACKEND_NAME) return null;
    const pool: ThreadPool = { get: () => torchBackend.getNumThreads(), set: (n) => torchBackend.setNumThreads(n) };
    const threads = pool.get();
    return new ThreadGovernor(pool, adaptsThreads(options) && threads > 1 ? new ThreadPolicy(threads) : null, options.note);
  }

  /** An epoch's updates begin: its counts start at 0 and the clock restarts (validation and saves stay out). */
  epochStart(): void {
    this.counts.clear();
    this.last = performance.now();
  }

  /** One optimizer update of `images` (this process's) just ended; a decision of the policy is applied at once. */
  afterUpdate(images: number): void {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    this.counts.set(this.threads, (this.counts.get(this.threads) ?? 0) + 1);
    if (this.policy === null || images <= 0) return;
    const { threads, switched } = this.policy.record(seconds / images);
    if (threads !== this.threads) {
      this.pool.set(threads);
      this.threads = threads;
    }
    if (switched) {
      this.note?.(`Threads ${switched.from} -> ${switched.to}: ${Math.round(switched.gain * 100)}% less time per image in a probe ` +
        `(${switched.to < switched.from ? 'another process competes for the cores' : 'the cores are free again'}).`);
    }
  }

  /** The count most of the epoch's updates ran at (the larger on a tie; the current one before any update). */
  epochThreads(): number {
    let best = this.threads;
    let most = 0;
    for (const [threads, count] of this.counts) {
      if (count > most || (count === most && threads > best)) [best, most] = [threads, count];
    }
    return best;
  }

  /** Puts back the count fit() started with (call in a finally). */
  restore(): void {
    if (this.pool.get() !== this.started) this.pool.set(this.started);
    this.threads = this.started;
  }
}

/** Adaptation is on unless turned off, the count is pinned (INSIGHT_TORCH_THREADS) or this is a data-parallel rank. */
export function adaptsThreads(options: Pick<ThreadGovernorOptions, 'adaptive' | 'parallel' | 'env'>): boolean {
  const env = options.env ?? process.env;
  const pinned = (env[torchBackend.THREADS_ENV] ?? '') !== '';
  const rank = options.parallel || Number(env.WORLD_SIZE ?? 1) > 1;
  return options.adaptive && !pinned && !rank;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
