// Learning-rate schedules at given steps, against values computed by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConstantSchedule, CosineSchedule, createSchedule, OneCycleSchedule, StepSchedule, type LearningRateSchedule } from '../../src/train/schedules';

function near(actual: number, expected: number, tolerance = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected}`);
}

describe('schedules', () => {
  it('constant', () => {
    const s: LearningRateSchedule = new ConstantSchedule(1e-3); // asked at any step, as the trainer does
    assert.deepEqual([0, 10, 1e6].map((t) => s.lrAt(t)), [1e-3, 1e-3, 1e-3]);
  });

  it('step: lr·gamma^floor(epoch/stepEpochs) with 10 steps per epoch, drop every 2 epochs', () => {
    const s = new StepSchedule(0.1, 10, 2, 0.5);
    near(s.lrAt(0), 0.1);
    near(s.lrAt(19), 0.1);
    near(s.lrAt(20), 0.05);
    near(s.lrAt(39), 0.05);
    near(s.lrAt(40), 0.025);
  });

  it('cosine with linear warmup: 100 steps, 10 warmup, lr 1, minLr 0', () => {
    const s = new CosineSchedule(1, 100, 10, 0);
    near(s.lrAt(0), 0.1); // (0 + 1) / 10
    near(s.lrAt(4), 0.5);
    near(s.lrAt(9), 1);
    near(s.lrAt(10), 1); // decay starts at the peak
    near(s.lrAt(55), 0.5); // halfway through the 90 decay steps: ½(1 + cos(π/2))
    near(s.lrAt(40), 0.5 * (1 + Math.cos(Math.PI / 3))); // 30/90 = 1/3 → 0.75
    near(s.lrAt(40), 0.75);
    near(s.lrAt(100), 0);
  });

  it('cosine ends at minLr', () => {
    const s = new CosineSchedule(0.1, 50, 0, 0.01);
    near(s.lrAt(0), 0.1);
    near(s.lrAt(25), 0.055);
    near(s.lrAt(50), 0.01);
  });

  it('one-cycle (PyTorch OneCycleLR, cos): 100 steps, max 1 → starts at 1/25, peaks at step 29, ends at 1/25e4', () => {
    const s = new OneCycleSchedule(1, 100);
    near(s.lrAt(0), 0.04);
    near(s.lrAt(29), 1);
    near(s.lrAt(99), 0.04 / 1e4);
    // Halfway up (step 14.5 of 29) is the midpoint of 0.04 and 1; halfway down (step 64) the midpoint of 1 and 4e-6.
    near(s.lrAt(14.5), 0.52);
    near(s.lrAt(64), (1 + 4e-6) / 2, 1e-9);
    assert.ok(s.lrAt(10) < s.lrAt(20) && s.lrAt(40) > s.lrAt(60));
  });

  it('createSchedule converts warmup epochs to steps', () => {
    const s = createSchedule('cosine', { lr: 1, stepsPerEpoch: 10, totalSteps: 100 }, { warmupEpochs: 0.5, minLr: 0, stepEpochs: 1, gamma: 0.1 });
    near(s.lrAt(0), 0.2);
    near(s.lrAt(4), 1);
  });
});
