// The catastrophic-overfitting guard: its collapse rule on hand-made accuracy sequences, its rollback to the best
// epoch's weights in a small real fit (in memory, and from checkpoints/robust-best as a resumed run has it), and the
// PGD check it measures with.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend } from '../../../src/backend';
import { DataLoader, type Normalization } from '../../../src/data';
import { BestWeights } from '../../../src/robust/adversarial/best_weights';
import { CollapseGuard, collapseReason, type CollapseRule } from '../../../src/robust/adversarial/guard';
import { RobustCheck } from '../../../src/robust/adversarial/robust_check';
import type { Callback } from '../../../src/train/callbacks/callback';
import { RobustGuard } from '../../../src/train/callbacks/robust_guard';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import { fit, trainableVariables } from '../../../src/train/trainer';
import { tinyDataset, tinyModel, weightsOf } from '../../train/tiny';

before(async () => {
  await initBackend();
});

const RULE: CollapseRule = { drop: 0.2, ratio: 0.5 };

/** The guard's verdicts on a sequence of per-epoch robust accuracies. */
function verdicts(accuracies: number[], rule = RULE): string[] {
  const guard = new CollapseGuard(rule);
  return accuracies.map((a, i) => guard.observe(i + 1, a).kind);
}

describe('collapse rule', () => {
  it('calls a new best, a steady epoch, and a collapse by either half of the rule', () => {
    assert.deepEqual(verdicts([0.30, 0.35, 0.32, 0.36, 0.02]), ['best', 'best', 'steady', 'best', 'collapse']);
    // Drop: 0.29 is more than 0.2 below 0.5 (and above 0.5 x 0.5 = 0.25).
    assert.deepEqual(verdicts([0.5, 0.31, 0.29]), ['best', 'steady', 'collapse']);
    // Ratio: 0.09 < 0.5 x 0.2 although only 11 points below; off with ratio 0.
    assert.deepEqual(verdicts([0.2, 0.11, 0.09]), ['best', 'steady', 'collapse']);
    assert.deepEqual(verdicts([0.2, 0.11, 0.09], { drop: 0.2, ratio: 0 }), ['best', 'steady', 'steady']);
    // A slow decline never collapses while it stays within both bounds of the best.
    assert.deepEqual(verdicts([0.4, 0.38, 0.35, 0.3, 0.25, 0.21]), ['best', 'steady', 'steady', 'steady', 'steady', 'steady']);
  });

  it('states why, with the figures', () => {
    assert.equal(collapseReason(0.29, 0.5, RULE), 'robust accuracy 29.0% is more than 20.0 points below its best 50.0%');
    assert.equal(collapseReason(0.09, 0.2, RULE), 'robust accuracy 9.0% is below 0.5 x its best 20.0%');
    assert.equal(collapseReason(0.31, 0.5, RULE), null);
  });

  it('keeps the earlier epoch on a tie, and continues from a saved state', () => {
    const guard = new CollapseGuard(RULE);
    guard.observe(1, 0.3);
    guard.observe(2, 0.3);
    assert.deepEqual(guard.getState(), { best: 0.3, bestEpoch: 1 });
    const resumed = new CollapseGuard(RULE);
    resumed.setState(guard.getState());
    assert.deepEqual(resumed.observe(3, 0.05), { kind: 'collapse', reason: 'robust accuracy 5.0% is more than 20.0 points below its best 30.0%' });
  });
});

describe('rollback', () => {
  it('a collapse puts back the best epoch\'s weights and stops the fit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-guard-'));
    const model = tinyModel(11);
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const loader = new DataLoader(tinyDataset(48), { batchSize: 16, seed: 2, shuffle: true, workers: 0 });
    // The measurement is scripted (a real check is below); the rest — training, rule, rollback, stop — is real.
    const measured = [0.40, 0.55, 0.50, 0.10, 0.60, 0.60];
    const seen: number[][][] = []; // weights after each epoch, before the guard acts
    const recorder: Callback = { name: 'recorder', onEpochEnd: (_logs, ctx) => void seen.push(weightsOf(ctx.model)) };
    const guard = new RobustGuard(new CollapseGuard(RULE), new BestWeights(path.join(dir, 'robust-best')));
    const notes: string[] = [];
    const state = await fit(model, loader, {
      epochs: 6, optimizer, schedule: new ConstantSchedule(0.02), seed: 4, callbacks: [recorder, guard, { name: 'notes', onNote: (m) => void notes.push(m) }],
      epochMetrics: async (_model, epochIndex) => ({ val_robust_accuracy: measured[epochIndex] }),
    });
    assert.equal(state.epoch, 4, 'training stops at the collapse');
    assert.equal(state.stopTraining, true);
    assert.deepEqual(state.history.map((h) => h.val_robust_accuracy), [0.40, 0.55, 0.50, 0.10]);
    assert.notDeepEqual(seen[3], seen[1], 'the weights moved after the best epoch');
    assert.deepEqual(weightsOf(model), seen[1], 'the model holds epoch 2\'s weights again');
    assert.deepEqual(guard.record(), {
      best: 0.55, bestEpoch: 2,
      collapse: { epoch: 4, robustAccuracy: 0.1, reason: 'robust accuracy 10.0% is more than 20.0 points below its best 55.0%', rolledBackTo: 2 },
    });
    assert.deepEqual(notes, ['Catastrophic-overfitting guard: after epoch 4 robust accuracy 10.0% is more than 20.0 points below its best 55.0%; ' +
      'rolled back to epoch 2\'s weights, training stops.']);
    assert.deepEqual((guard.getState() as { bestEpoch: number }).bestEpoch, 2);

    // A resumed run has no copy in memory: the weights come back from the directory.
    const other = tinyModel(12);
    assert.equal(await new BestWeights(path.join(dir, 'robust-best')).restore(other, 2), 2);
    assert.deepEqual(weightsOf(other), seen[1]);
    assert.equal(await new BestWeights(path.join(dir, 'absent')).restore(other, null), null, 'nothing to roll back to');
    guard.dispose();
    optimizer.dispose();
    model.dispose();
    other.dispose();
  });
});

describe('robust check', () => {
  it('measures PGD robust accuracy on the first images, no higher than clean accuracy, the same every call', async () => {
    const normalization: Normalization = { kind: 'scale' };
    const model = tinyModel(13);
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const data = tinyDataset(96);
    await fit(model, new DataLoader(data, { batchSize: 16, seed: 1, shuffle: true, workers: 0, normalization }), {
      epochs: 3, optimizer, schedule: new ConstantSchedule(0.02), seed: 1,
    });
    const strong = RobustCheck.onFirst(data, 40, { eps: 32 / 255, steps: 5, normalization, seed: 0, batchSize: 16 });
    const tiny = RobustCheck.onFirst(data, 40, { eps: 1e-4, steps: 5, normalization, seed: 0, batchSize: 16 });
    assert.equal(strong.count, 40);
    const all = RobustCheck.onFirst(data, 1000, { eps: 8 / 255, steps: 1, normalization, seed: 0 });
    assert.equal(all.count, 96, 'capped at the images there are');
    await all.dispose();
    const clean = await tiny.accuracy(model);
    const robust = await strong.accuracy(model);
    assert.ok(clean > 0.8, `the tiny model learned its data (clean ${clean})`);
    assert.ok(robust < clean, `robust ${robust} < clean ${clean}`);
    assert.equal(await strong.accuracy(model), robust, 'repeatable');
    await strong.dispose();
    await tiny.dispose();
    optimizer.dispose();
    model.dispose();
  });
});
