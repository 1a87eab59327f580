// Early stopping and reduce-on-plateau on scripted epoch logs, on the MonitorCallback base they share with ModelCheckpoint;
// their state survives a save/restore; the CallbackList calls them in order and carries their state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import type { Callback, TrainingContext } from '../../src/train/callbacks/callback';
import { CallbackList } from '../../src/train/callbacks/callback_list';
import { EarlyStopping } from '../../src/train/callbacks/early_stopping';
import { ModelCheckpoint } from '../../src/train/callbacks/model_checkpoint';
import { MonitorCallback } from '../../src/train/callbacks/monitor';
import { ReduceLROnPlateau } from '../../src/train/callbacks/reduce_on_plateau';
import type { MonitorName } from '../../src/train/state';
import { initialTrainerState, type EpochLogs } from '../../src/train/state';

function context(scheduledLr = 0.1): TrainingContext & { notes: string[] } {
  const notes: string[] = [];
  const state = initialTrainerState(0);
  return {
    model: null as never, optimizer: null as never, state, epochs: 100, batchesPerEpoch: 1, stepsPerEpoch: 1,
    scheduledLr: () => scheduledLr, snapshot: () => structuredClone(state), note: (m) => notes.push(m), notes,
  };
}

const logs = (epoch: number, valLoss: number, valAccuracy = 0.5): EpochLogs =>
  ({ epoch, step: epoch, loss: 1, accuracy: 0.5, val_loss: valLoss, val_accuracy: valAccuracy, lr: 0.1, seconds: 1, imagesPerSecond: 1 });

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement of val_loss', () => {
    const ctx = context();
    const cb = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    const losses = [1.0, 0.8, 0.85, 0.9];
    const stoppedAt: number[] = [];
    losses.forEach((loss, i) => {
      cb.onEpochEnd(logs(i + 1, loss), ctx);
      if (ctx.state.stopTraining) stoppedAt.push(i + 1);
    });
    assert.deepEqual(stoppedAt, [4]);
    assert.match(ctx.notes[0], /Early stopping: val_loss has not improved on 0\.8 for 2 epochs/);
  });

  it('an improvement resets the count; minDelta decides what counts', () => {
    const ctx = context();
    const cb = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.05 });
    for (const [i, loss] of [1.0, 0.97, 0.9, 0.89, 0.88].entries()) cb.onEpochEnd(logs(i + 1, loss), ctx);
    // 0.97 is not better by > 0.05 (wait 1), 0.9 is (reset), 0.89 and 0.88 are not (wait 2 → stop).
    assert.equal(ctx.state.stopTraining, true);
  });

  it('maximises accuracy monitors', () => {
    const ctx = context();
    const cb = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
    cb.onEpochEnd(logs(1, 1, 0.5), ctx);
    cb.onEpochEnd(logs(2, 1, 0.6), ctx);
    assert.equal(ctx.state.stopTraining, false);
    cb.onEpochEnd(logs(3, 1, 0.6), ctx);
    assert.equal(ctx.state.stopTraining, true);
  });

  it('restored state continues the count', () => {
    const a = new EarlyStopping({ monitor: 'val_loss', patience: 3 });
    const ctx = context();
    for (const [i, loss] of [1, 2, 2].entries()) a.onEpochEnd(logs(i + 1, loss), ctx);
    const b = new EarlyStopping({ monitor: 'val_loss', patience: 3 });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    b.onEpochEnd(logs(4, 2), ctx);
    assert.equal(ctx.state.stopTraining, true);
  });
});

describe('ReduceLROnPlateau', () => {
  it('multiplies the lr by factor after `patience` bad epochs, then waits `cooldown`', () => {
    const ctx = context(0.1);
    const cb = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2, cooldown: 1 });
    const scales: number[] = [];
    for (const [i, loss] of [1, 1, 1, 1, 1, 1, 1].entries()) {
      cb.onEpochEnd(logs(i + 1, loss), ctx);
      scales.push(ctx.state.lrScale);
    }
    // epoch 1 sets best; 2, 3 bad → reduce at 3; 4 cooldown; 5, 6 bad → reduce at 6; 7 cooldown.
    assert.deepEqual(scales, [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
    assert.match(ctx.notes[0], /Reduce on plateau: val_loss has not improved for 2 epochs; lr 0\.100 -> 0\.0500\./);
  });

  it('never goes below minLr', () => {
    const ctx = context(0.1);
    const cb = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.1, patience: 1, minLr: 0.02 });
    for (const [i, loss] of [1, 1, 1, 1].entries()) cb.onEpochEnd(logs(i + 1, loss), ctx);
    assert.ok(Math.abs(0.1 * ctx.state.lrScale - 0.02) < 1e-12);
  });

  it('improvement resets the wait', () => {
    const ctx = context(0.1);
    const cb = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2 });
    for (const [i, loss] of [1, 1.1, 0.9, 1.0, 0.8].entries()) cb.onEpochEnd(logs(i + 1, loss), ctx);
    assert.equal(ctx.state.lrScale, 1);
  });
});

/** The base's bookkeeping on its own: improvements by name, counted misses. */
class Recorder extends MonitorCallback {
  readonly name = 'recorder';
  readonly improved: boolean[] = [];
  constructor(monitor: MonitorName, minDelta = 0) {
    super(monitor, minDelta);
  }
  onEpochEnd(logs: EpochLogs): void {
    const improved = this.observe(logs);
    if (!improved) this.wait++;
    this.improved.push(improved);
  }
}

describe('MonitorCallback', () => {
  it('minimises losses and maximises accuracies, by more than minDelta', () => {
    const loss = new Recorder('val_loss', 0.05);
    for (const [i, v] of [1.0, 0.97, 0.9, 0.95].entries()) loss.onEpochEnd(logs(i + 1, v));
    assert.deepEqual(loss.improved, [true, false, true, false]);
    assert.equal(loss.mode, 'min');
    assert.deepEqual(loss.getState(), { best: 0.9, wait: 1 });
    const acc = new Recorder('val_accuracy');
    for (const [i, v] of [0.5, 0.6, 0.6, 0.4].entries()) acc.onEpochEnd(logs(i + 1, 1, v));
    assert.deepEqual(acc.improved, [true, true, false, false]);
    assert.equal(acc.mode, 'max');
    assert.deepEqual(acc.getState(), { best: 0.6, wait: 2 });
  });

  it('a restored monitor continues from the saved best and wait', () => {
    const a = new Recorder('val_loss');
    for (const [i, v] of [1, 2].entries()) a.onEpochEnd(logs(i + 1, v));
    const b = new Recorder('val_loss');
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    b.onEpochEnd(logs(3, 1.5));
    assert.deepEqual(b.improved, [false]);
    assert.deepEqual(b.getState(), { best: 1, wait: 2 });
  });

  it('says which metric is missing and how to fix it', () => {
    const cb = new EarlyStopping({ monitor: 'val_loss', patience: 1 });
    const noValidation = { epoch: 1, step: 1, loss: 1, accuracy: 0.5, lr: 0.1, seconds: 1, imagesPerSecond: 1 };
    assert.throws(() => cb.onEpochEnd(noValidation, context()), (e: unknown) => e instanceof InsightError && e.message ===
      'A monitored metric must be logged every epoch. Received: monitor="val_loss". ' +
      'Monitor a training metric (loss, accuracy) or keep a validation split (validationCount > 0).');
  });

  it('keeps each subclass\'s checkpointed state as before: early stopping, plateau (with cooldown), checkpoint (best only)', () => {
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 5 });
    const plateau = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 1, cooldown: 2 });
    const checkpoint = new ModelCheckpoint({ lastDir: '/nonexistent/last', bestDir: '/nonexistent/best', monitor: 'val_loss' });
    const ctx = context(0.1);
    for (const [i, v] of [1, 2].entries()) {
      early.onEpochEnd(logs(i + 1, v), ctx);
      plateau.onEpochEnd(logs(i + 1, v), ctx);
    }
    assert.deepEqual(early.getState(), { best: 1, wait: 1 });
    assert.deepEqual(plateau.getState(), { best: 1, wait: 0, cooldownLeft: 2 });
    checkpoint.setState({ best: 0.5 });
    assert.deepEqual(checkpoint.getState(), { best: 0.5 });
    const restored = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 1, cooldown: 2 });
    restored.setState(plateau.getState());
    assert.deepEqual(restored.getState(), plateau.getState());
  });
});

describe('CallbackList', () => {
  it('runs each hook in list order, awaiting each callback before the next', async () => {
    const calls: string[] = [];
    const slow = (name: string): Callback => ({
      name,
      onEpochEnd: async () => {
        await new Promise((resolve) => setTimeout(resolve, name === 'a' ? 20 : 0));
        calls.push(name);
      },
      onNote: (m) => calls.push(`${name}:${m}`),
    });
    const list = new CallbackList([slow('a'), slow('b')]);
    await list.epochEnd(logs(1, 1), context());
    list.note('hi');
    assert.deepEqual(calls, ['a', 'b', 'a:hi', 'b:hi']);
  });

  it('restores callback state from TrainerState.callbacks and snapshots it back, by name', () => {
    const ctx = context();
    const list = new CallbackList([new EarlyStopping({ monitor: 'val_loss', patience: 9 }), { name: 'stateless' }]);
    ctx.state.callbacks = { earlyStopping: { best: 0.25, wait: 3 } };
    list.restore(ctx.state);
    const snapshot = list.snapshot(ctx.state);
    assert.deepEqual(snapshot.callbacks, { earlyStopping: { best: 0.25, wait: 3 } });
    assert.notEqual(snapshot, ctx.state);
  });
});
