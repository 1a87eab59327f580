// The adaptive thread count of training: ThreadPolicy on made-up times per image (quiet, contended from the start,
// contention that ends and one that begins mid-run, noise under the 10% hysteresis, 4 threads), when adaptation is
// off, and fit() on a tiny model with libtorch's real pool: the probe at update 17, the count put back after fit
// (also when it throws), and each epoch's `threads` in the history and metrics.jsonl.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as torchBackend from '@insight/tfjs-backend-torch';

import { resolveCompressConfig } from '../../src/compress/config';
import { initBackend } from '../../src/backend';
import { DataLoader } from '../../src/data';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { RunDir } from '../../src/run/run_dir';
import type { UpdateInfo } from '../../src/train/callbacks/callback';
import { MetricsLog } from '../../src/train/callbacks/metrics_log';
import { resolveTrainConfig } from '../../src/train/config';
import { Sgd, paramsOf } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { adaptsThreads, THREAD_POLICY, ThreadPolicy, type ThreadSwitch } from '../../src/train/thread_governor';
import { fit, trainableVariables, type FitOptions } from '../../src/train/trainer';
import { tinyDataset, tinyModel } from './tiny';

/** Seconds per image of update `u` (1-based) at `threads`. */
type Machine = (threads: number, u: number) => number;

/** Runs `updates` updates through a policy; returns the count each update ran at and the switches (at update u). */
function simulate(policy: ThreadPolicy, machine: Machine, updates: number) {
  const ran: number[] = [];
  const switches: (ThreadSwitch & { update: number })[] = [];
  for (let u = 1; u <= updates; u++) {
    ran.push(policy.threads);
    const { threads, switched } = policy.record(machine(policy.threads, u));
    assert.equal(threads, policy.threads);
    if (switched) switches.push({ ...switched, update: u });
  }
  return { ran, switches };
}

/** Deterministic noise in [-amplitude, +amplitude] (a linear congruential generator). */
function noise(amplitude: number, seed = 7): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) / 2 ** 24 * 2 - 1) * amplitude;
  };
}

/** The 1-based updates that ran at `threads`. */
const updatesAt = (ran: number[], threads: number) => ran.flatMap((t, i) => (t === threads ? [i + 1] : []));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// The benchmark's figures on 2 cores as ms per image: quiet 2 threads ~2,300 img/s, 1 thread ~1,580; next to one
// busy process 2 threads ~740, 1 thread ~1,560.
const QUIET: Machine = (threads) => (threads === 2 ? 0.43 : 0.63);
const CONTENDED: Machine = (threads) => (threads === 2 ? 1.35 : 0.64);

describe('ThreadPolicy', () => {
  it('quiet: stays at all threads; probes one thread after update 16, then 64, 128 and 256 updates apart (~3% of 1,000)', () => {
    const { ran, switches } = simulate(new ThreadPolicy(2), QUIET, 1000);
    assert.deepEqual(switches, []);
    // probe after 16 updates; then 64, 128, 256, 256 updates at 2 threads between probes of 6.
    assert.deepEqual(updatesAt(ran, 1), [...range(17, 22), ...range(87, 92), ...range(221, 226), ...range(483, 488), ...range(745, 750)]);
    assert.equal(updatesAt(ran, 1).length / ran.length, 0.03);
    assert.deepEqual(THREAD_POLICY, { firstProbeAfter: 16, probeEvery: 64, maxProbeEvery: 256, probeLength: 6, window: 12, driftWindow: 8, minGain: 0.1 });
  });

  it('contended from the start: switches to 1 thread within the first probe and stays there', () => {
    const { ran, switches } = simulate(new ThreadPolicy(2), CONTENDED, 600);
    assert.equal(switches.length, 1);
    const [first] = switches;
    assert.deepEqual([first.from, first.to, first.update], [2, 1, 22]);
    assert.ok(Math.abs(first.gain - (1 - 0.64 / 1.35)) < 1e-12, String(first.gain));
    // From update 23 on: 1 thread but for the probes of 2 (64, 64, 128, 256 updates apart).
    assert.deepEqual(updatesAt(ran, 2).filter((u) => u > 22), [...range(87, 92), ...range(157, 162), ...range(291, 296), ...range(553, 558)]);
  });

  it('contention that ends returns to all threads at the next probe; one that begins mid-run is caught by the drift', () => {
    const ends = simulate(new ThreadPolicy(2), (t, u) => (u <= 200 ? CONTENDED(t, u) : QUIET(t, u)), 600);
    assert.deepEqual(ends.switches.map(({ from, to, update }) => [from, to, update]), [[2, 1, 22], [1, 2, 296]]);
    assert.deepEqual(updatesAt(ends.ran, 1).filter((u) => u > 296), [...range(361, 366), ...range(431, 436), ...range(565, 570)]);

    // Quiet for 600 updates (the interval has grown to 256), then a busy process: the median of 8 drifts past 10%.
    const begins = simulate(new ThreadPolicy(2), (t, u) => (u <= 600 ? QUIET(t, u) : CONTENDED(t, u)), 700);
    assert.deepEqual(begins.switches.map(({ from, to, update }) => [from, to, update]), [[2, 1, 610]]);
    assert.deepEqual(updatesAt(begins.ran, 1).filter((u) => u > 488), [...range(605, 674), ...range(681, 700)],
      'a probe from update 605, after 4 slow ones; then 1 thread but for a probe of 2 after 64 updates');
  });

  it('noise under the 10% hysteresis never switches: 1 thread 4% faster with ±3% noise, or equal speeds', () => {
    const jitter = noise(0.03);
    const close = simulate(new ThreadPolicy(2), (t) => (t === 2 ? 1.0 : 0.96) * (1 + jitter()), 3000);
    assert.deepEqual(close.switches, []);
    const jitter2 = noise(0.03, 11);
    const equal = simulate(new ThreadPolicy(2), () => 1 + jitter2(), 3000);
    assert.deepEqual(equal.switches, []);
    // No drift probes either: 3,000 updates hold the scheduled probes only (after 16, then 64, 128, 256 ...).
    assert.equal(updatesAt(equal.ran, 1).length, 6 * 13);
  });

  it('4 threads step one at a time: contention costing one core settles at 3, probing 2 and 4 in turn', () => {
    const machine: Machine = (t) => ({ 4: 2.0, 3: 1.0, 2: 1.3, 1: 2.5 })[t]!;
    const { ran, switches } = simulate(new ThreadPolicy(4), machine, 400);
    assert.deepEqual(switches.map(({ from, to, update }) => [from, to, update]), [[4, 3, 22]]);
    assert.deepEqual([...new Set(ran.slice(22))].sort(), [2, 3, 4]);
    assert.deepEqual([87, 157, 291].map((u) => ran[u - 1]), [2, 4, 2], 'down, up, down');
    // One thread never beats the rest: without contention 4 threads stay.
    assert.deepEqual(simulate(new ThreadPolicy(4), (t) => 1 / t + 0.1, 400).switches, []);
  });

  it('adapts unless turned off, pinned by INSIGHT_TORCH_THREADS, or a data-parallel rank', () => {
    assert.equal(adaptsThreads({ adaptive: true, parallel: false, env: {} }), true);
    assert.equal(adaptsThreads({ adaptive: true, parallel: false, env: { INSIGHT_TORCH_THREADS: '', WORLD_SIZE: '1' } }), true);
    assert.equal(adaptsThreads({ adaptive: false, parallel: false, env: {} }), false);
    assert.equal(adaptsThreads({ adaptive: true, parallel: false, env: { INSIGHT_TORCH_THREADS: '2' } }), false);
    assert.equal(adaptsThreads({ adaptive: true, parallel: false, env: { WORLD_SIZE: '2' } }), false);
    assert.equal(adaptsThreads({ adaptive: true, parallel: true, env: {} }), false);
  });

  it('is a config key of train, finetune and compress runs, on by default', () => {
    assert.equal(resolveTrainConfig({}).adaptiveThreads, false);
    assert.equal(resolveTrainConfig({ adaptiveThreads: true }).adaptiveThreads, true);
    assert.equal(resolveFinetuneConfig({ base: 'runs/x/model' }).adaptiveThreads, false);
    assert.equal(resolveCompressConfig({ model: 'runs/x' }).adaptiveThreads, false);
  });
});

describe('fit() with adaptive threads', () => {
  const original = { threads: 0, env: process.env.INSIGHT_TORCH_THREADS };
  before(async () => {
    assert.equal(await initBackend('torch'), 'torch');
    original.threads = torchBackend.getNumThreads();
    delete process.env.INSIGHT_TORCH_THREADS;
  });
  after(() => {
    torchBackend.setNumThreads(original.threads);
    if (original.env !== undefined) process.env.INSIGHT_TORCH_THREADS = original.env;
  });

  /** 2 epochs of 24 updates (96 images, batches of 4) at 2 threads; records libtorch's count at every update. */
  async function trainTiny(options: Partial<FitOptions> = {}, throwAt = 0) {
    torchBackend.setNumThreads(2);
    const model = tinyModel(3);
    const optimizer = new Sgd(paramsOf(trainableVariables(model)), { momentum: 0 });
    const run = RunDir.create(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-threads-')), {});
    const seen: number[] = [];
    const onGradients = (_grads: unknown, info: UpdateInfo) => {
      seen.push(torchBackend.getNumThreads());
      if (info.step === throwAt) throw new Error(`stop at update ${throwAt}`);
    };
    try {
      const state = await fit(model, new DataLoader(tinyDataset(96), { batchSize: 4, seed: 1, workers: 0 }), {
        epochs: 2, optimizer, schedule: new ConstantSchedule(0.01), seed: 3, callbacks: [new MetricsLog(run)], onGradients, ...options,
      });
      return { state, seen, metrics: run.readMetrics() };
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }

  it('probes 1 thread for updates 17-22, logs each epoch\'s count and puts 2 back', async () => {
    const { state, seen, metrics } = await trainTiny({ adaptiveThreads: true });
    assert.equal(seen.length, 48);
    assert.deepEqual(seen.slice(0, 22), [...Array(16).fill(2), ...Array(6).fill(1)]);
    assert.ok(seen.every((t) => t === 1 || t === 2));
    assert.equal(torchBackend.getNumThreads(), 2, 'the count fit() started with');
    // Epoch 1: 16 updates at 2 before the probe's 6 at 1, whatever it decided; epoch 2: the count most updates saw.
    const most = (part: number[]) => (part.filter((t) => t === 1).length > part.length / 2 ? 1 : 2);
    assert.deepEqual(state.history.map((h) => h.threads), [2, most(seen.slice(24))]);
    assert.deepEqual(metrics.map((m) => m.threads), state.history.map((h) => h.threads));
  });

  it('puts the count back when fit throws in the middle of a probe', async () => {
    await assert.rejects(trainTiny({ adaptiveThreads: true }, 19), /stop at update 19/);
    assert.equal(torchBackend.getNumThreads(), 2);
  });

  it('keeps the count by default, with adaptiveThreads false, or with INSIGHT_TORCH_THREADS set', async () => {
    for (const options of [{}, { adaptiveThreads: false }]) {
      const off = await trainTiny(options);
      assert.deepEqual([new Set(off.seen), off.state.history.map((h) => h.threads)], [new Set([2]), [2, 2]]);
    }
    process.env.INSIGHT_TORCH_THREADS = '2';
    try {
      const pinned = await trainTiny({ adaptiveThreads: true });
      assert.deepEqual([new Set(pinned.seen), pinned.state.history.map((h) => h.threads)], [new Set([2]), [2, 2]]);
    } finally {
      delete process.env.INSIGHT_TORCH_THREADS;
    }
  });
});
