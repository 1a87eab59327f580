// ASHA and median pruning decisions on constructed studies, each expected keep/prune worked out in the comments;
// the 'none' pruner; the pruner factory's options and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import type { TrialRecord } from '../../src/study/types';
import { AshaPruner, median, MedianPruner, NopPruner, promotable, prunerFromSpec, valueAtRung } from '../../src/tune/pruners';
import { reported, trial } from './sampler_trials';

describe('AshaPruner (r = 1, η = 3: rungs at epochs 1, 3, 9)', () => {
  const asha = new AshaPruner();
  // Other trials' val_accuracy per epoch. At rung 1 (epoch 1): 0.30, 0.50, 0.20, 0.45. At rung 3: t1 0.62, t3 0.58.
  const others: TrialRecord[] = [
    reported(0, [0.30], 'pruned'),
    reported(1, [0.50, 0.55, 0.62, 0.64, 0.66, 0.67, 0.68, 0.69, 0.70, 0.71], 'completed'),
    reported(2, [0.20], 'pruned'),
    reported(3, [0.45, 0.52, 0.58, 0.60], 'running'),
    reported(4, [0.90, 0.95, 0.99], 'failed'), // left out: a failed trial is retried with the same params
    trial(5, {}, 'waiting'),
  ];
  const decide = (values: number[], study = others, pruner = asha) => {
    const candidate = reported(9, values);
    return pruner.shouldPrune(candidate, [...study, candidate], 'maximize');
  };

  it('places rungs at r·η^(s+k)', () => {
    assert.deepEqual([0, 1, 2, 3].map((k) => asha.rungStep(k)), [1, 3, 9, 27]);
    assert.deepEqual([0, 1, 2].map((k) => new AshaPruner({ minResource: 2, reductionFactor: 2, minEarlyStoppingRate: 1 }).rungStep(k)), [4, 8, 16]);
  });

  it('at a rung keeps only the top ⌊n/η⌋ of the values recorded there, itself included', () => {
    // n = 5 values at epoch 1 (0.30, 0.50, 0.20, 0.45 and its own): ⌊5/3⌋ = 1 goes on, so it must be >= 0.50.
    assert.equal(decide([0.55]), false);
    assert.equal(decide([0.50]), false); // a tie passes
    assert.equal(decide([0.49]), true);
    // A sixth value at epoch 1 (0.40): ⌊6/3⌋ = 2 go on: it must be >= the second best, 0.45.
    const six = [...others, reported(6, [0.40], 'pruned')];
    assert.equal(decide([0.46], six), false);
    assert.equal(decide([0.44], six), true);
  });

  it('decides only when a report first reaches a rung', () => {
    // Epoch 2 is no rung: no decision, even for a value that would lose everywhere.
    assert.equal(decide([0.55, 0.10]), false);
    // Epoch 3 (rung 1): values there are t1 0.62, t3 0.58 and its own: ⌊3/3⌋ = 1, it must be >= 0.62.
    assert.equal(decide([0.55, 0.60, 0.63]), false);
    assert.equal(decide([0.55, 0.60, 0.61]), true);
    // Epochs 4 to 8 reach no new rung.
    assert.equal(decide([0.55, 0.60, 0.63, 0.01]), false);
  });

  it('with fewer than η values at a rung, goes on only as the best so far there (Optuna\'s rule)', () => {
    const one = [reported(0, [0.30], 'completed')];
    assert.equal(decide([0.31], one), false);
    assert.equal(decide([0.29], one), true);
    assert.equal(decide([0.01], []), false); // the first trial to reach a rung always goes on
  });

  it('judges a report that jumps past rungs at each of them, and prunes a non-finite value', () => {
    // A trial reporting epoch 1 then epoch 4 (resumed from a checkpoint): epoch 4 reaches rung 3 with its value 0.61.
    const jumped = { ...reported(9, [0.55]), intermediate: [{ step: 1, value: 0.55 }, { step: 4, value: 0.61 }] };
    assert.equal(asha.shouldPrune(jumped, [...others, jumped], 'maximize'), true);
    assert.equal(valueAtRung(others[3], 3), 0.58);
    assert.equal(valueAtRung(others[0], 3), null);
    assert.equal(decide([Number.NaN]), true);
  });

  it('minimizes: keeps the lowest values', () => {
    const losses = [reported(0, [1.2], 'pruned'), reported(1, [0.8], 'completed'), reported(2, [1.0], 'pruned')];
    const candidate = (v: number) => reported(9, [v]);
    // n = 4, ⌊4/3⌋ = 1: must be <= 0.8.
    assert.equal(asha.shouldPrune(candidate(0.79), [...losses, candidate(0.79)], 'minimize'), false);
    assert.equal(asha.shouldPrune(candidate(0.81), [...losses, candidate(0.81)], 'minimize'), true);
    assert.equal(promotable(0.9, [0.9, 0.8, 1.0, 1.2, 1.1, 0.7], 3, 'minimize'), false); // top 2: 0.7, 0.8
    assert.equal(promotable(0.8, [0.9, 0.8, 1.0, 1.2, 1.1, 0.7], 3, 'minimize'), true);
  });
});

describe('MedianPruner (5 startup trials, no warmup)', () => {
  // Five completed trials; at epoch 1: 0.1 .. 0.5 (median 0.3); at epoch 2: 0.2, 0.4, 0.5, 0.6, 0.7 (median 0.5).
  const completed = [
    reported(0, [0.1, 0.2], 'completed'), reported(1, [0.2, 0.4], 'completed'), reported(2, [0.3, 0.5], 'completed'),
    reported(3, [0.4, 0.6], 'completed'), reported(4, [0.5, 0.7], 'completed'),
  ];
  const median5 = new MedianPruner();
  const decide = (values: number[], study: TrialRecord[] = completed, pruner = median5, direction: 'maximize' | 'minimize' = 'maximize') => {
    const candidate = reported(9, values);
    return pruner.shouldPrune(candidate, [...study, candidate], direction);
  };

  it('prunes when the best value so far is worse than the completed trials\' median at that epoch', () => {
    assert.equal(decide([0.29]), true);
    assert.equal(decide([0.30]), false);
    // Epoch 2: best so far 0.45 (epoch 1) < median 0.5 → prune; 0.55 at epoch 1 keeps it even after a drop to 0.1.
    assert.equal(decide([0.45, 0.2]), true);
    assert.equal(decide([0.55, 0.1]), false);
    // Minimizing: best = lowest; epoch-1 median 0.3.
    assert.equal(decide([0.31], completed, median5, 'minimize'), true);
    assert.equal(decide([0.29], completed, median5, 'minimize'), false);
  });

  it('waits for nStartupTrials completed trials and nWarmupSteps, and needs values at the epoch', () => {
    assert.equal(decide([0.0], completed.slice(0, 4)), false);
    // Pruned and running trials are not completed.
    assert.equal(decide([0.0], [...completed.slice(0, 4), reported(5, [0.9], 'pruned'), reported(6, [0.9], 'running')]), false);
    assert.equal(decide([0.0], completed, new MedianPruner({ nWarmupSteps: 2 })), false);
    assert.equal(decide([0.0, 0.0], completed, new MedianPruner({ nWarmupSteps: 2 })), true);
    // Epoch 3: no completed trial reported it.
    assert.equal(decide([0.9, 0.9, 0.0]), false);
    assert.equal(decide([Number.NaN]), true);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});

describe('prunerFromSpec', () => {
  it('builds each pruner; minEpochs is minResource', () => {
    assert.deepEqual((prunerFromSpec({ name: 'asha', minEpochs: 2, reductionFactor: 4 }) as AshaPruner).options,
      { minResource: 2, reductionFactor: 4, minEarlyStoppingRate: 0 });
    assert.deepEqual((prunerFromSpec({ name: 'median', nStartupTrials: 3 }) as MedianPruner).options, { nStartupTrials: 3, nWarmupSteps: 0 });
    const none = prunerFromSpec({ name: 'none' });
    assert.ok(none instanceof NopPruner);
    assert.equal(none.shouldPrune(reported(0, [0]), [], 'maximize'), false);
  });

  it('refuses unknown pruners, options and bad values', () => {
    const message = (spec: Record<string, unknown>) => {
      try {
        prunerFromSpec(spec);
      } catch (error) {
        assert.ok(error instanceof InsightError);
        return error.message;
      }
      return 'no error';
    };
    assert.equal(message({ name: 'hyperband' }), 'The pruner must be one of: asha, median, none. Received: pruner="hyperband". Pass e.g. --pruner asha.');
    assert.equal(message({ name: 'asha', reductionFactor: 1 }), 'pruner.reductionFactor must be an integer >= 2. Received: pruner.reductionFactor=1. Pass e.g. reductionFactor: 3 (the default).');
    assert.equal(message({ name: 'median', minResource: 1 }),
      'The median pruner takes only: name, nStartupTrials, nWarmupSteps. Received: pruner.minResource=1. Remove minResource.');
  });
});
