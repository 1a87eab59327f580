// A run's life on tiny data: checkpoints inside an epoch (every N steps) that resume bit for bit, a SIGINT that stops
// at the next optimizer update with checkpoints/last saved and the run marked interrupted, a finished run extended to
// more epochs (Keras's initial_epoch), and the heartbeat that lets a tracker tell a crashed run from a live one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { DataLoader, type Batch } from '../../src/data';
import type { EpochOptions } from '../../src/data/loader';
import { InsightError } from '../../src/errors';
import { readCheckpoint, restoreWeights } from '../../src/run/checkpoint';
import { RunDir } from '../../src/run/run_dir';
import type { Callback } from '../../src/train/callbacks/callback';
import { ModelCheckpoint } from '../../src/train/callbacks/model_checkpoint';
import { Adam, paramsOf } from '../../src/train/optimizers';
import { RunLifecycle } from '../../src/train/run_lifecycle';
import { ConstantSchedule, CosineSchedule } from '../../src/train/schedules';
import { RunSession } from '../../src/train/session';
import type { TrainerState } from '../../src/train/state';
import { fit, trainableVariables, type FitOptions } from '../../src/train/trainer';
import { train } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';
import { tinyDataset, tinyModel, weightsOf } from './tiny';

before(async () => {
  await initBackend();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'insight-lifecycle-'));

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, columns: 120, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

/**
 * A fresh model, optimizer and loader for 2 epochs of 80 images (Adam with L2, dropout, cosine with warmup, label
 * smoothing: every piece of state matters); `batchSize` 16 → 5 batches an epoch.
 */
function setup(batchSize: number, gradAccumulation: number) {
  const model = tinyModel(21, { dropout: 0.3 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)), { weightDecay: 1e-3 });
  const train = new DataLoader(tinyDataset(80), { batchSize, seed: 4, shuffle: true, workers: 0 });
  const steps = 2 * Math.ceil(train.batchesPerEpoch / gradAccumulation);
  const options: FitOptions = {
    epochs: 2, optimizer, seed: 9, labelSmoothing: 0.1, gradAccumulation, schedule: new CosineSchedule(0.02, steps, 3, 0.001),
  };
  const dispose = async () => {
    optimizer.dispose();
    model.dispose();
    await train.close();
  };
  return { model, optimizer, train, options, dispose };
}

/** Weights and per-epoch losses of an uninterrupted run. */
async function straightRun(batchSize: number, gradAccumulation: number) {
  const s = setup(batchSize, gradAccumulation);
  const state = await fit(s.model, s.train, s.options);
  const result = { weights: weightsOf(s.model), losses: state.history.map((h) => h.loss), step: state.step };
  await s.dispose();
  return result;
}

/** Restores checkpoint `dir` into a fresh setup and trains to the end; returns what straightRun returns. */
async function resumedRun(dir: string, batchSize: number, gradAccumulation: number, callbacks: Callback[] = []) {
  const s = setup(batchSize, gradAccumulation);
  const checkpoint = await readCheckpoint<TrainerState>(dir);
  restoreWeights(s.model, checkpoint.weights, checkpoint.dir);
  s.optimizer.setState(checkpoint.optimizerState);
  tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
  const state = await fit(s.model, s.train, { ...s.options, initialState: checkpoint.trainer, callbacks });
  const result = { weights: weightsOf(s.model), losses: state.history.map((h) => h.loss), step: state.step };
  await s.dispose();
  return { ...result, saved: checkpoint.trainer };
}

describe('checkpoints inside an epoch', () => {
  it('every N steps: a run killed after one resumes to the weights and losses of an uninterrupted run', async () => {
    const dir = tmp();
    const straight = await straightRun(16, 1);
    // 5 updates an epoch, a checkpoint every 3: steps 3, 5 (epoch end), 6, 9; the "kill" comes at step 8.
    const killed = setup(16, 1);
    const written: number[] = [];
    const checkpoint = new ModelCheckpoint({ lastDir: path.join(dir, 'last'), bestDir: path.join(dir, 'best'), monitor: 'loss', everySteps: 3 });
    const kill: Callback = { name: 'kill', onBatchEnd: (logs) => { if (logs.step === 8) throw new Error('killed'); } };
    const spy: Callback = { name: 'spy', onBatchEnd: (logs, ctx) => { if (ModelCheckpoint.atUpdateInEpoch(logs, ctx) && logs.step % 3 === 0) written.push(logs.step); } };
    await assert.rejects(fit(killed.model, killed.train, { ...killed.options, callbacks: [kill, spy, checkpoint] }), /killed/);
    await killed.dispose();
    assert.deepEqual(written, [3, 6]);

    const resumed = await resumedRun(path.join(dir, 'last'), 16, 1);
    assert.equal(resumed.saved.epoch, 1);
    assert.equal(resumed.saved.step, 6);
    assert.equal(resumed.saved.inEpoch?.batch, 1, 'saved one batch into the second epoch');
    assert.deepEqual(resumed.weights, straight.weights);
    assert.deepEqual(resumed.losses, straight.losses);
    assert.equal(resumed.step, straight.step);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a resume inside an epoch asks the loader for the untrained batches only (the ones before are never rendered)', async () => {
    const dir = tmp();
    const straight = await straightRun(16, 1);
    // A checkpoint every 3 of 5 updates an epoch; stopped at step 8, the last checkpoint is step 6: epoch 2, batch 1.
    const stopped = setup(16, 1);
    const checkpoint = new ModelCheckpoint({ lastDir: path.join(dir, 'last'), bestDir: path.join(dir, 'best'), monitor: 'loss', everySteps: 3 });
    const stop: Callback = { name: 'stop', onBatchEnd: (logs) => { if (logs.step === 8) throw new Error('stopped'); } };
    await assert.rejects(fit(stopped.model, stopped.train, { ...stopped.options, callbacks: [stop, checkpoint] }), /stopped/);
    await stopped.dispose();

    /** The real loader, recording what each epoch was asked for and how many batches it gave. */
    class RecordingLoader extends DataLoader {
      readonly asked: { epochIndex: number; startBatch: number; batches: number }[] = [];
      override epoch(epochIndex: number, options: EpochOptions = {}): AsyncIterableIterator<Batch> {
        const record = { epochIndex, startBatch: options.startBatch ?? 0, batches: 0 };
        this.asked.push(record);
        const inner = super.epoch(epochIndex, options);
        return (async function* counted() {
          for await (const batch of inner) {
            record.batches++;
            yield batch;
          }
        })();
      }
    }
    const s = setup(16, 1);
    const loader = new RecordingLoader(tinyDataset(80), { batchSize: 16, seed: 4, shuffle: true, workers: 0 });
    const saved = await readCheckpoint<TrainerState>(path.join(dir, 'last'));
    restoreWeights(s.model, saved.weights, saved.dir);
    s.optimizer.setState(saved.optimizerState);
    tf.dispose([...saved.weights, ...Object.values(saved.optimizerState)]);
    const state = await fit(s.model, loader, { ...s.options, initialState: saved.trainer });
    assert.deepEqual([saved.trainer.epoch, saved.trainer.inEpoch?.batch], [1, 1]);
    assert.deepEqual(loader.asked, [{ epochIndex: 1, startBatch: 1, batches: 4 }]);
    assert.deepEqual(weightsOf(s.model), straight.weights);
    assert.deepEqual(state.history.map((h) => h.loss), straight.losses);
    await loader.close();
    await s.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the epoch-end checkpoint holds no epoch in progress', async () => {
    const dir = tmp();
    const s = setup(16, 1);
    await fit(s.model, s.train, { ...s.options, epochs: 1, callbacks: [new ModelCheckpoint({ lastDir: path.join(dir, 'last'), bestDir: path.join(dir, 'best'), monitor: 'loss', everySteps: 2 })] });
    await s.dispose();
    const trainer = JSON.parse(fs.readFileSync(path.join(dir, 'last', 'trainer.json'), 'utf8')) as TrainerState;
    assert.deepEqual([trainer.epoch, trainer.step, trainer.epochs, trainer.inEpoch], [1, 5, 1, null]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('SIGINT during training', () => {
  it('stops at the next update with checkpoints/last saved, marks the run interrupted, and resumes bit for bit', async () => {
    const runsDir = tmp();
    // Batches of 8 accumulated in pairs: 10 batches, 5 updates an epoch. Ctrl-C lands after batch 3, between the two
    // halves of an update, so training stops after batch 4.
    const straight = await straightRun(8, 2);
    const listenersBefore = process.listenerCount('SIGINT');
    const out = sink();
    const session = await RunSession.start({ backend: 'auto', progress: 'log', out });
    const run = session.create(runsDir, { seed: 9, progressEverySeconds: 0 });
    assert.equal(process.listenerCount('SIGINT'), listenersBefore + 1);
    const info = run.readInfo();
    assert.equal(info.pid, process.pid);
    assert.equal(info.host, os.hostname());
    assert.ok(typeof info.heartbeatAt === 'string');

    const s = setup(8, 2);
    const ctrlC: Callback = { name: 'ctrlC', onBatchEnd: (logs) => { if (logs.epochIndex === 0 && logs.batch === 3) process.emit('SIGINT'); } };
    let error: unknown;
    try {
      await fit(s.model, s.train, { ...s.options, callbacks: session.callbacks([ctrlC], { monitor: 'loss' }) });
    } catch (e) {
      error = e;
      session.fail(e);
    }
    await s.dispose();
    assert.ok(error instanceof InsightError && error.code === 'INSIGHT_E_INTERRUPTED', String(error));
    assert.equal(error.exitCode, 130);
    assert.equal(error.message, 'Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update. ' +
      `Received: signal="SIGINT", run=${JSON.stringify(run.dir)}, savedAt="epoch 1, batch 4/10 (step 2)". Resume with: insight train --resume ${run.dir}`);
    assert.equal(out.text, 'SIGINT: stopping at the next optimizer update, after saving checkpoints/last (press Ctrl-C again to stop at once).\n');
    assert.equal(run.readInfo().status, 'interrupted');
    assert.equal(run.readInfo().error, error.message);
    assert.equal(process.listenerCount('SIGINT'), listenersBefore, 'the session gives Ctrl-C back');

    // Resuming: the session takes the run on again (this process, no stale error), fit continues from batch 5.
    const again = await RunSession.start({ backend: 'auto', progress: 'none', out: sink() });
    run.setStatus('running');
    again.resume(RunDir.open(run.dir));
    assert.equal(run.readInfo().error, undefined);
    const resumed = await resumedRun(run.lastCheckpoint, 8, 2, again.callbacks([], { monitor: 'loss' }));
    again.fail(new Error('only the weights matter here'));
    assert.deepEqual([resumed.saved.epoch, resumed.saved.step, resumed.saved.inEpoch?.batch], [0, 2, 4]);
    assert.deepEqual(resumed.weights, straight.weights);
    assert.deepEqual(resumed.losses, straight.losses);
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('a fine-tuning run (its config has a base) says to start again; SIGTERM is heard as well', async () => {
    const runsDir = tmp();
    const session = await RunSession.start({ backend: 'auto', progress: 'none', out: sink() });
    const run = session.create(runsDir, { base: 'runs/base' });
    const s = setup(16, 1);
    const term: Callback = { name: 'term', onBatchEnd: (logs) => { if (logs.batch === 1) process.emit('SIGTERM'); } };
    await assert.rejects(fit(s.model, s.train, { ...s.options, callbacks: session.callbacks([term], { monitor: 'loss' }) }), (e: unknown) => {
      session.fail(e);
      return e instanceof InsightError && e.message.endsWith(`savedAt="epoch 1, batch 1/5 (step 1)". Fine-tuning runs do not resume: start it again (${run.dir} keeps its last checkpoint).`) &&
        e.message.includes('signal="SIGTERM"');
    });
    await s.dispose();
    assert.equal(run.readInfo().status, 'interrupted');
    assert.ok(fs.existsSync(path.join(run.lastCheckpoint, 'trainer.json')));
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('handleSignals: false leaves signals alone', async () => {
    const before = process.listenerCount('SIGTERM');
    const session = await RunSession.start({ backend: 'auto', progress: 'none', out: sink(), handleSignals: false });
    session.create(tmp(), {});
    assert.equal(process.listenerCount('SIGTERM'), before);
    session.fail(new Error('done'));
  });
});

describe('extending a finished run (initial_epoch)', () => {
  it('a larger epoch target trains on from the saved state, also after an early stop; a smaller one is refused', async () => {
    const dir = tmp();
    const straight = setup(16, 1);
    await fit(straight.model, straight.train, { ...straight.options, epochs: 3, schedule: new ConstantSchedule(0.01) });
    const want = weightsOf(straight.model);
    await straight.dispose();

    const first = setup(16, 1);
    const last = path.join(dir, 'last');
    const stopper: Callback = { name: 'stopper', onEpochEnd: (_logs, ctx) => { if (ctx.state.epoch === 2) ctx.state.stopTraining = true; } };
    await fit(first.model, first.train, {
      ...first.options, schedule: new ConstantSchedule(0.01),
      callbacks: [stopper, new ModelCheckpoint({ lastDir: last, bestDir: path.join(dir, 'best'), monitor: 'loss' })],
    });
    await first.dispose();

    const extend = async (epochs: number) => {
      const s = setup(16, 1);
      const checkpoint = await readCheckpoint<TrainerState>(last);
      restoreWeights(s.model, checkpoint.weights, checkpoint.dir);
      s.optimizer.setState(checkpoint.optimizerState);
      tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
      assert.deepEqual([checkpoint.trainer.epochs, checkpoint.trainer.stopTraining], [2, true]);
      try {
        const state = await fit(s.model, s.train, { ...s.options, epochs, schedule: new ConstantSchedule(0.01), initialState: checkpoint.trainer });
        return { state, weights: weightsOf(s.model) };
      } finally {
        await s.dispose();
      }
    };
    const same = await extend(2);
    assert.equal(same.state.history.length, 2, 'the same target: nothing to do');
    const longer = await extend(3);
    assert.deepEqual([longer.state.epoch, longer.state.step, longer.state.epochs, longer.state.history.length], [3, 15, 3, 3]);
    assert.deepEqual(longer.weights, want, 'extended = 3 epochs straight (constant learning rate)');
    await assert.rejects(extend(1), (e: unknown) => e instanceof InsightError && e.message ===
      'A resumed run trains to an epoch count no smaller than the epochs it has completed. Received: epochs=1, completed=2. Pass --epochs 2 or more.');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('RunSession.checkResumable', () => {
  it('an unfinished run resumes to any target; a completed one only to more epochs than it was given', () => {
    const run = RunDir.create(tmp(), { epochs: 10 });
    for (const status of ['running', 'interrupted', 'failed'] as const) {
      run.setStatus(status);
      RunSession.checkResumable(run, 10, 10);
    }
    run.setStatus('completed');
    RunSession.checkResumable(run, 10, 20);
    assert.throws(() => RunSession.checkResumable(run, 10, 10), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RESUME' &&
      e.message === 'A completed run can be resumed only to train more epochs than it was given. ' +
        `Received: run=${JSON.stringify(run.dir)}, status="completed", epochs=10, runEpochs=10. ` +
        'Pass --epochs with more than 10 to extend it (the schedule is then defined for the new total), or start a new run.');
  });
});

describe('train() and signals', () => {
  it('handleSignals: false leaves the process\'s SIGINT/SIGTERM handling alone (a library embedding Insight keeps its own)', async () => {
    const runsDir = tmp();
    const counts: number[][] = [];
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const probe: Callback = { name: 'probe', onBatchEnd: () => { counts.push([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]); } };
    const settings = { data: JPG_MINI, limit: 24, validationCount: 8, epochs: 1, batchSize: 16, workers: 0, runsDir, tensorboard: false, progress: 'none' as const };
    const quiet = await train(settings, { handleSignals: false, callbacks: [probe] });
    quiet.model.dispose();
    assert.ok(counts.length > 0);
    assert.deepEqual(counts.at(-1), before);
    const handled = await train(settings, { callbacks: [probe] });
    handled.model.dispose();
    assert.deepEqual(counts.at(-1), [before[0] + 1, before[1] + 1], 'by default training listens for both signals');
    assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before);
  });
});

describe('RunLifecycle', () => {
  it('records the process, renews the heartbeat, drops an old interruption; stop() ends both', async () => {
    const run = RunDir.create(tmp(), {});
    run.setStatus('interrupted', { error: 'stopped earlier' });
    const lifecycle = new RunLifecycle(run, { notify: () => undefined, resumeFix: 'fix', heartbeatSeconds: 0.05 });
    const listeners = process.listenerCount('SIGINT');
    lifecycle.start();
    const first = run.readInfo();
    assert.deepEqual([first.pid, first.host, first.error], [process.pid, os.hostname(), undefined]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = run.readInfo().heartbeatAt!;
    assert.ok(Date.parse(later) > Date.parse(first.heartbeatAt!), `${later} after ${first.heartbeatAt}`);
    assert.equal(run.readInfo().updatedAt, first.updatedAt, 'a heartbeat is not an update');
    lifecycle.stop();
    assert.equal(process.listenerCount('SIGINT'), listeners);
    const stopped = run.readInfo().heartbeatAt;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(run.readInfo().heartbeatAt, stopped, 'no beats after stop()');
  });
});
