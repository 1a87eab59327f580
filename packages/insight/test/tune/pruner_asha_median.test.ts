// ASHA and median pruning decisions on constructed studies, each expected keep/prune worked out in the comments;
// the 'none' pruner; the pruner factory's options and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import type { TrialRecord } from '../../src/study/types';
import { AshaPruner, median, MedianPruner, NopPruner, promotable, prunerFromSpec, valueAtRung } from '../../src/tune/pruners';
import { reported, trial } from './sampler_trials';

describe('AshaPruner (r = 1, η = 3: rungs at epochs 1, 3, 9, ...)', () => {
  const asha = new AshaPruner();
  // Other trials' val_accuracy per epoch. At rung 1 (epoch 1): 0.30, 0.50, 0.20, 0.45. At rung 3: t1 0.62, t3 0.58.
  const others: TrialRecord[] = [
    reported(0, [0.30], 'paused'),
    reported(1, [0.50, 0.55, 0.62, 0.64, 0.66, 0.67, 0.68, 0.69, 0.70, 0.71], 'completed'),
    reported(2, [0.20], 'pruned'),
    reported(3, [0.45, 0.52, 0.58, 0.60], 'running'),
    reported(4, [0.90, 0.95, 0.99], 'failed'), // left out: a failed trial is retried with the same params
    trial(5, {}, 'waiting'),
  ];
  const decide = (values: number[], study = others, pruner = asha) => {
    const candidate = reported(9, values);
    return pruner.decide(candidate, [...study, candidate], 'maximize');
  };

  it('places rungs at r·η^(s+k), at most R/η', () => {
    assert.deepEqual([0, 1, 2, 3].map((k) => asha.rungStep(k)), [1, 3, 9, 27]);
    assert.deepEqual([0, 1, 2].map((k) => new AshaPruner({ minResource: 2, reductionFactor: 2, minEarlyStoppingRate: 1 }).rungStep(k)), [4, 8, 16]);
    assert.deepEqual(asha.rungSteps(30), [1, 3, 9, 27]);
    // R = 10 epochs: rungs 1 and 3 (9 x 3 > 10: a rung at 9 would promote to one more epoch); R = 9: 1 and 3; R = 27: 1, 3, 9.
    assert.deepEqual(new AshaPruner({ maxResource: 10 }).rungSteps(), [1, 3]);
    assert.deepEqual(new AshaPruner({ maxResource: 9 }).rungSteps(), [1, 3]);
    assert.deepEqual(new AshaPruner({ maxResource: 27 }).rungSteps(), [1, 3, 9]);
    assert.deepEqual(new AshaPruner({ maxResource: 2 }).rungSteps(), []);
    assert.equal(asha.rungSteps().at(-1), 3 ** 646, 'without R, the rungs end where r·η^k stops being finite');
  });

  it('at a rung goes on only among the top ⌊n/η⌋ of the values recorded there, itself included; else pauses', () => {
    // n = 5 values at epoch 1 (0.30, 0.50, 0.20, 0.45 and its own): ⌊5/3⌋ = 1 goes on, so it must be >= 0.50.
    assert.equal(decide([0.55]), 'continue');
    assert.equal(decide([0.50]), 'continue'); // a tie passes
    assert.equal(decide([0.49]), 'pause');
    // A sixth value at epoch 1 (0.40): ⌊6/3⌋ = 2 go on: it must be >= the second best, 0.45.
    const six = [...others, reported(6, [0.40], 'pruned')];
    assert.equal(decide([0.46], six), 'continue');
    assert.equal(decide([0.44], six), 'pause');
  });

  it('decides only when a report first reaches a rung', () => {
    // Epoch 2 is no rung: no decision, even for a value that would lose everywhere.
    assert.equal(decide([0.55, 0.10]), 'continue');
    // Epoch 3 (rung 1): values there are t1 0.62, t3 0.58 and its own: ⌊3/3⌋ = 1, it must be >= 0.62.
    assert.equal(decide([0.55, 0.60, 0.63]), 'continue');
    assert.equal(decide([0.55, 0.60, 0.61]), 'pause');
    // Epochs 4 to 8 reach no new rung.
    assert.equal(decide([0.55, 0.60, 0.63, 0.01]), 'continue');
    // No rung above R/η: with R = 10, epoch 9 is no rung.
    const capped = new AshaPruner({ maxResource: 10 });
    assert.equal(decide([0.55, 0.60, 0.63, 0.6, 0.6, 0.6, 0.6, 0.6, 0.01], others, capped), 'continue');
  });

  it('with fewer than η values at a rung, nobody goes on yet: the first trials wait for the rung to fill', () => {
    assert.equal(decide([0.01], []), 'pause');
    assert.equal(decide([0.99], [reported(0, [0.30], 'paused')]), 'pause');
    // The third value at the rung: ⌊3/3⌋ = 1, the best goes on.
    assert.equal(decide([0.99], [reported(0, [0.30], 'paused'), reported(1, [0.40], 'paused')]), 'continue');
  });

  it('judges a report that jumps past rungs at each of them, and prunes a non-finite value', () => {
    // A trial reporting epoch 1 then epoch 4: epoch 4 reaches rung 3 with its value 0.61 (< t1's 0.62).
    const jumped = { ...reported(9, [0.55]), intermediate: [{ step: 1, value: 0.55 }, { step: 4, value: 0.61 }] };
    assert.equal(asha.decide(jumped, [...others, jumped], 'maximize'), 'pause');
    assert.equal(valueAtRung(others[3], 3), 0.58);
    assert.equal(valueAtRung(others[0], 3), null);
    assert.equal(decide([Number.NaN]), 'prune');
  });

  it('minimizes: keeps the lowest values', () => {
    const losses = [reported(0, [1.2], 'pruned'), reported(1, [0.8], 'completed'), reported(2, [1.0], 'pruned')];
    const candidate = (v: number) => reported(9, [v]);
    // n = 4, ⌊4/3⌋ = 1: must be <= 0.8.
    assert.equal(asha.decide(candidate(0.79), [...losses, candidate(0.79)], 'minimize'), 'continue');
    assert.equal(asha.decide(candidate(0.81), [...losses, candidate(0.81)], 'minimize'), 'pause');
    assert.equal(promotable(0.9, [0.9, 0.8, 1.0, 1.2, 1.1, 0.7], 3, 'minimize'), false); // top 2: 0.7, 0.8
    assert.equal(promotable(0.8, [0.9, 0.8, 1.0, 1.2, 1.1, 0.7], 3, 'minimize'), true);
    assert.equal(promotable(0.1, [0.1, 0.2], 3, 'minimize'), false); // ⌊2/3⌋ = 0
  });

  it('promotes the best paused trial that the filled rung now ranks among its top ⌊n/η⌋, highest rung first', () => {
    const capped = new AshaPruner({ maxResource: 10 });
    // Three trials paused at rung 1 (0.30, 0.50, 0.40): ⌊3/3⌋ = 1, trial 1 (0.50) is promoted.
    const three = [reported(0, [0.30], 'paused'), reported(1, [0.50], 'paused'), reported(2, [0.40], 'paused')];
    assert.equal(capped.promotion(three, 'maximize')?.number, 1);
    // Two values only: nobody.
    assert.equal(capped.promotion(three.slice(0, 2), 'maximize'), null);
    // Trial 1 went on (running, past rung 1): its value still fills the rung, but only paused trials are promoted;
    // with 6 values at rung 1, ⌊6/3⌋ = 2: the top two are 0.50 (trial 1, running) and 0.45 (trial 4, paused).
    const six = [three[0], reported(1, [0.50, 0.52], 'running'), three[2], reported(3, [0.10], 'pruned'), reported(4, [0.45], 'paused'),
      reported(5, [0.44], 'paused')];
    assert.equal(capped.promotion(six, 'maximize')?.number, 4);
    // A trial paused at rung 3 that the rung ranks first goes before trial 4's rung-1 promotion (three values at rung 3;
    // their low epoch-1 values keep trial 4 among rung 1's best ⌊9/3⌋ = 3).
    const atThree = [...six, reported(6, [0.05, 0.6, 0.70], 'paused'), reported(7, [0.05, 0.6, 0.65], 'completed'), reported(8, [0.05, 0.6, 0.60], 'pruned')];
    assert.equal(capped.promotion(atThree, 'maximize')?.number, 6);
    assert.equal(capped.promotion(atThree.filter((t) => t.number !== 6), 'maximize')?.number, 4, 'rung 1 still promotes trial 4');
    // Failed and waiting trials fill no rung; a study without paused trials promotes nothing.
    assert.equal(capped.promotion([...three.slice(0, 2), reported(2, [0.9], 'failed')], 'maximize'), null);
    assert.equal(capped.promotion(others.filter((t) => t.state !== 'paused'), 'maximize'), null);
    // Only trials this worker can resume are candidates; the others' values still rank the rung.
    assert.equal(capped.promotion(six, 'maximize', { resumable: (t) => t.number !== 4 }), null, 'trial 5 (0.44) is third at rung 1');
    // The study's end (final): a rung short of η values promotes its best; a filled rung is ranked as before.
    assert.equal(capped.promotion(three.slice(0, 2), 'maximize', { final: true })?.number, 1);
    assert.equal(capped.promotion([reported(0, [0.5, 0.6, 0.7], 'paused'), reported(1, [0.4, 0.5, 0.6], 'paused'), ...three.slice(2)], 'maximize', { final: true })?.number, 0,
      'rung 3 (two values) first: its best');
    assert.equal(capped.promotion(six, 'maximize', { final: true })?.number, 4);
    // Minimizing: the lowest loss of the rung.
    const losses = [reported(0, [1.2], 'paused'), reported(1, [0.8], 'paused'), reported(2, [1.0], 'paused')];
    assert.equal(capped.promotion(losses, 'minimize')?.number, 1);
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
    return pruner.decide(candidate, [...study, candidate], direction) === 'prune';
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
      { minResource: 2, reductionFactor: 4, minEarlyStoppingRate: 0, maxResource: Infinity });
    assert.equal((prunerFromSpec({ name: 'asha' }, 10) as AshaPruner).options.maxResource, 10);
    assert.deepEqual((prunerFromSpec({ name: 'median', nStartupTrials: 3 }) as MedianPruner).options, { nStartupTrials: 3, nWarmupSteps: 0 });
    const none = prunerFromSpec({ name: 'none' });
    assert.ok(none instanceof NopPruner);
    assert.equal(none.decide(reported(0, [0]), [], 'maximize'), 'continue');
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
