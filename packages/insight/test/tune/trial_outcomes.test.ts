// How a trial ends when its training does not simply finish: a trial declared lost while it trains (its heartbeat
// now returns false) stops training at once — its run fails, its result is refused and a retry waits — and a trial
// whose metric turns NaN (a diverging lr) ends failed with a finite value or none, while the worker goes on to the
// next trial (the storage refuses NaN: it must never reach it); a promoted trial (ASHA resumed it) stopped by
// SIGINT pauses again with its checkpoint, so the next worker resumes it and nothing it trained is lost; and a trial
// that early stopping stops at a rung completes there instead of pausing.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { openStudyStorage } from '../../src/study/open_storage';
import type { StudyStorage } from '../../src/study/storage';
import { NopPruner } from '../../src/tune/pruners/none';
import type { Pruner } from '../../src/tune/pruners/types';
import { strategyOf } from '../../src/tune/strategy';
import { train } from '../../src/train/train';
import { runWorker } from '../../src/tune/worker';
import { tune } from '../../src/tune/study';
import { runTrial } from '../../src/tune/trial_runner';
import { baseConfig, runOf, sink, tempDir, writeColourFolder, writeSpace } from './helpers';

const tmp = tempDir('insight-tune-outcomes-');
let data: string;

before(async () => {
  data = await writeColourFolder(path.join(tmp, 'colours'));
});

describe('a trial declared lost while it trains', () => {
  let storage: StudyStorage;
  before(async () => {
    storage = await openStudyStorage(`sqlite:${path.join(tmp, 'lost.db')}`);
  });
  after(async () => {
    await storage.close();
  });

  it('stops training at its next heartbeat: the run fails, finishing is refused, the retry waits with its params', async () => {
    const epochs = 200;
    const { name: _name, ...base } = baseConfig(data, path.join(tmp, 'lost-runs'), epochs);
    const study = await storage.createStudy({ name: 'lost', metric: 'val_accuracy', direction: 'maximize', space: { lr: [0.01, 0.1] },
      sampler: { name: 'random' }, pruner: { name: 'none' }, maxTrials: 2, baseConfig: base });
    const trial = (await storage.createTrial(study.id, { lr: 0.01 }, 'me'))!;
    const out = sink();
    const running = runTrial(trial, { storage, study, workerId: 'me', pruner: new NopPruner(), heartbeatSeconds: 0.05, out, handleSignals: false });

    // Once its run exists (the first heartbeat records it), another worker's stale check takes the trial away.
    let taken = 0;
    for (let i = 0; i < 2000 && taken === 0; i++) {
      await sleep(10);
      if ((await storage.trial(trial.id))?.runDir) taken = (await storage.failStaleTrials(study.id, 0)).length;
    }
    assert.equal(taken, 1, 'the trial was declared lost');
    const outcome = await running;

    assert.equal(outcome.lost, true);
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.interrupted, false);
    assert.match(outcome.error ?? '', /trial 0 was declared lost and is retried by another worker/);
    const run = runOf(outcome.runDir!);
    assert.equal(run.status, 'failed');
    assert.ok(run.epochs.length < epochs / 2, `training stopped early: ${run.epochs.length} of ${epochs} epochs`);
    assert.equal(await storage.finishTrial(trial.id, 'me', 'completed', 0.5), false, 'its result is not counted');
    const trials = await storage.trials(study.id);
    assert.deepEqual(trials.map((t) => [t.number, t.state, t.params, t.retryOf]), [[0, 'failed', { lr: 0.01 }, null], [1, 'waiting', { lr: 0.01 }, trial.id]]);
    assert.match(trials[0].error ?? '', /worker lost/);
  });
});

describe('a trial whose metric turns NaN', () => {
  it('ends failed without a NaN in the storage, and the worker runs the next trial', async () => {
    // Grid order: lr 1e30 first (sgd diverges: val_loss NaN after the first epoch), then lr 0.1.
    const space = writeSpace(tmp, 'nan.yaml', 'lr: { type: categorical, choices: [1.0e+30, 0.1] }\n');
    const out = sink();
    const result = await tune({ study: 'nan', space, sampler: 'grid', pruner: 'none', metric: 'val_loss', trials: 2,
      baseConfig: { ...baseConfig(data, path.join(tmp, 'nan-runs'), 2), optimizer: 'sgd' } }, { out, err: out, handleSignals: false });
    const [diverged, fine] = result.trials;
    assert.deepEqual([diverged.params, fine.params], [{ lr: 1e30 }, { lr: 0.1 }]);
    assert.equal(diverged.state, 'failed', out.text);
    assert.equal(diverged.value, null);
    assert.deepEqual(diverged.intermediate, []);
    assert.match(diverged.error ?? '', /must log the study's metric val_loss as a finite number[\s\S]*Received: trial=0, epoch=1, val_loss=NaN/);
    assert.equal(runOf(diverged.runDir!).status, 'failed');
    assert.equal(fine.state, 'completed');
    assert.ok(Number.isFinite(fine.value), String(fine.value));
    assert.match(out.text, /^Trial 0 failed after 0 epochs \(.+\)\n[\s\S]*^Trial 1 completed: val_loss \d\.\d{4} after 2 epochs\n/m);
    assert.equal(result.counts.failed, 1);
    assert.equal(result.best?.number, 1);
  });
});

describe('a promoted trial stopped by SIGINT', () => {
  it('pauses again with its checkpoint; the next worker resumes it, and its run equals one never stopped', async () => {
    const storage = await openStudyStorage(`sqlite:${path.join(tmp, 'promoted.db')}`);
    try {
      const { name: _name, ...base } = baseConfig(data, path.join(tmp, 'promoted-runs'), 3);
      const study = await storage.createStudy({ name: 'promoted', metric: 'val_loss', direction: 'minimize', space: { lr: [0.1] },
        sampler: { name: 'random' }, pruner: { name: 'none' }, maxTrials: 1, baseConfig: base });
      // A scripted pruner: pause at epoch 1, promote any paused trial; the promoted run's epoch-2 report brings a SIGINT.
      let interruptAt = 2;
      const pruner: Pruner = {
        name: 'scripted',
        decide: (trial) => {
          const step = trial.intermediate.at(-1)!.step;
          if (step === interruptAt) {
            interruptAt = -1;
            process.emit('SIGINT', 'SIGINT');
          }
          return step === 1 ? 'pause' : 'continue';
        },
        promotion: (trials) => trials.find((t) => t.state === 'paused') ?? null,
      };
      const strategy = { ...strategyOf(study), pruner };
      const out = sink();
      const first = await runWorker(storage, study, { heartbeatSeconds: 1, staleSeconds: 60, strategy, out, handleSignals: true });
      assert.equal(first.stopped, 'signal');
      assert.deepEqual(first.trials.map((t) => [t.number, t.state, t.epochs, t.interrupted]), [[0, 'paused', 1, false], [0, 'paused', 2, true]]);
      const [paused] = await storage.trials(study.id);
      assert.deepEqual([paused.state, paused.intermediate.map((r) => r.step)], ['paused', [1, 2]]);
      assert.equal(runOf(paused.runDir!).status, 'interrupted');
      assert.match(out.text, /^Trial 0 promoted: resumed after epoch 1 \(lr=0\.1\)\n[\s\S]*^Trial 0 paused: val_loss \d\.\d{4} after 2 epochs \(Training stops at SIGINT/m);
      assert.equal((await storage.trials(study.id)).length, 1, 'no retry enqueued: the trial keeps its run');

      const second = await runWorker(storage, study, { heartbeatSeconds: 1, staleSeconds: 60, strategy, out: sink(), handleSignals: true });
      assert.deepEqual(second.trials.map((t) => [t.number, t.state, t.epochs]), [[0, 'completed', 3]]);
      const [done] = await storage.trials(study.id);
      const resumed = runOf(done.runDir!);
      assert.deepEqual([done.state, resumed.status, resumed.epochs.map((e) => e.epoch)], ['completed', 'completed', [1, 2, 3]]);
      const straight = await train({ ...baseConfig(data, path.join(tmp, 'promoted-straight'), 3), lr: 0.1, progress: 'none' }, { handleSignals: false });
      straight.model.dispose();
      const uninterrupted = runOf(straight.runDir).epochs;
      for (let e = 0; e < 3; e++) assert.ok(Math.abs(resumed.epochs[e].val_loss - uninterrupted[e].val_loss) <= 1e-6, `epoch ${e + 1}`);
    } finally {
      await storage.close();
    }
  });

  it('completes, not pauses, when another callback stopped training at the rung (early stopping): it is not trained past that stop', async () => {
    const storage = await openStudyStorage(`sqlite:${path.join(tmp, 'early.db')}`);
    try {
      // lr 1e-9: the predictions never change, so val_accuracy does not improve at epoch 2 and a patience of 1 stops there.
      const base = { ...baseConfig(data, path.join(tmp, 'early-runs'), 4), monitor: 'val_accuracy', earlyStoppingPatience: 1 };
      const study = await storage.createStudy({ name: 'early', metric: 'val_accuracy', direction: 'maximize', space: { lr: [1e-9] },
        sampler: { name: 'random' }, pruner: { name: 'none' }, maxTrials: 1, baseConfig: base });
      // A scripted pruner: continue at epoch 1, pause at every later one (were it asked).
      const asked: number[] = [];
      const pruner: Pruner = { name: 'scripted', decide: (trial) => (asked.push(trial.intermediate.at(-1)!.step) === 1 ? 'continue' : 'pause') };
      const out = sink();
      const result = await runWorker(storage, study, { heartbeatSeconds: 1, staleSeconds: 60, strategy: { ...strategyOf(study), pruner }, out, handleSignals: false });
      assert.deepEqual(asked, [1], 'not asked at epoch 2: early stopping had stopped the run');
      assert.deepEqual(result.trials.map((t) => [t.number, t.state, t.epochs]), [[0, 'completed', 2]]);
      const [trial] = await storage.trials(study.id);
      const run = runOf(trial.runDir!);
      assert.deepEqual([trial.state, trial.value, run.status, run.epochs.map((e) => e.epoch)], ['completed', run.epochs[1].val_accuracy, 'completed', [1, 2]]);
      assert.match(out.text, /Early stopping: val_accuracy has not improved on [\d.]+ for 1 epochs\./);
      assert.match(out.text, /^Trial 0 completed: val_accuracy \d\.\d{4} after 2 epochs$/m);
      assert.doesNotMatch(out.text, /paused/);
    } finally {
      await storage.close();
    }
  });
});
