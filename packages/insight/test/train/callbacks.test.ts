// Early stopping and reduce-on-plateau on scripted epoch logs; their state survives a save/restore.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TrainingContext } from '../../src/train/callbacks/callback';
import { EarlyStopping } from '../../src/train/callbacks/early_stopping';
import { ReduceLROnPlateau } from '../../src/train/callbacks/reduce_on_plateau';
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
