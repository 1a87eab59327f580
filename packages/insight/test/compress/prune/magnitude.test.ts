// Magnitude pruning: exact counts of pruned weights (global and per layer), the default skip list, TF-MOT's
// PolynomialDecay values at given steps, and the pruning callback on a real fit(): the schedule's sparsity at its
// pruning steps, and pruned weights staying exactly zero through Adam updates (momentum would move them).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { DataLoader } from '../../../src/data';
import { InsightError } from '../../../src/errors';
import { createModel } from '../../../src/models';
import {
  ConstantSparsity, PolynomialDecay, PruningCallback, defaultSkip, fineTuningSchedule, formatSparsityTable, magnitudeMasks, prunableWeights,
  pruneOnce, sparsityReport,
} from '../../../src/compress/prune';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import { fit, trainableVariables } from '../../../src/train/trainer';
import { tinyDataset } from '../../train/tiny';

before(async () => {
  await initBackend();
});

const seedCnn = (seed = 2) => createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 3, seed });

describe('magnitude masks', () => {
  it('skips the first and last kernel layer by default; an unknown name is refused with the kernel layers', () => {
    const model = seedCnn();
    assert.deepEqual(defaultSkip(model), ['conv1', 'logits']);
    assert.deepEqual(prunableWeights(model).map((w) => w.variable.name), ['conv2/kernel', 'conv3/kernel', 'dense1/kernel']);
    assert.equal(prunableWeights(model, []).length, 5);
    assert.throws(() => prunableWeights(model, ['conv9']), (e: InsightError) =>
      e.code === 'INSIGHT_E_CONFIG' && /skip="conv9"/.test(e.message) && /kernelLayers="conv1,conv2,conv3,dense1,logits"/.test(e.message));
    model.dispose();
  });

  it('layer scope prunes round(s·n) of each kernel; global scope round(s·N) over all, smallest |w| first', () => {
    const model = seedCnn();
    const weights = prunableWeights(model);
    const before = weights.map((w) => Array.from(w.variable.read().dataSync()));
    const masks = pruneOnce(weights, 0.75, 'layer');
    const report = sparsityReport(model, ['conv2', 'conv3', 'dense1']);
    assert.deepEqual(report.layers.map((r) => [r.layer, r.params, r.zeros, r.pruned]), [
      ['conv1', 864, 0, false], ['conv2', 18432, 13824, true], ['conv3', 36864, 27648, true], ['dense1', 16384, 12288, true], ['logits', 192, 0, false],
    ]);
    // The pruned weights are exactly the smallest |w| of each kernel.
    weights.forEach((w, i) => {
      const after = w.variable.read().dataSync();
      const sorted = before[i].map(Math.abs).sort((a, b) => a - b);
      const cut = sorted[Math.round(0.75 * sorted.length) - 1];
      before[i].forEach((v, j) => assert.ok(Object.is(after[j], Math.abs(v) > cut ? v : 0))); // +0, never -0
    });
    tf.dispose(masks);
    model.dispose();

    const other = seedCnn(4);
    const all = prunableWeights(other);
    const globalMasks = magnitudeMasks(all, 0.9, 'global');
    const pruned = globalMasks.reduce((a, m) => a + m.size - tf.tidy(() => tf.sum(tf.cast(m, 'int32')).dataSync()[0]), 0);
    assert.equal(pruned, Math.round(0.9 * (18432 + 36864 + 16384)));
    // One threshold: every kept |w| is above every pruned |w|.
    const kept: number[] = [];
    const dropped: number[] = [];
    all.forEach((w, i) => {
      const [v, m] = [w.variable.read().dataSync(), globalMasks[i].dataSync()];
      v.forEach((x, j) => (m[j] !== 0 ? kept : dropped).push(Math.abs(x)));
    });
    assert.ok(Math.min(...kept) > Math.max(...dropped));
    tf.dispose(globalMasks);
    other.dispose();
  });

  it('the report formats a table with totals', () => {
    const model = seedCnn();
    tf.dispose(pruneOnce(prunableWeights(model), 0.5, 'global'));
    const report = sparsityReport(model, ['conv2', 'conv3', 'dense1']);
    assert.equal(report.pruned.zeros, Math.round(0.5 * 71680));
    assert.equal(report.model.params, model.countParams());
    const table = formatSparsityTable(report);
    assert.match(table, /^layer\s+shape\s+params\s+zeros\s+sparsity$/m);
    assert.match(table, /^conv1\s+3x3x3x32\s+864\s+0\s+0\.0% \(skipped\)$/m);
    assert.match(table, /^pruned kernels\s+71680\s+35840\s+50\.0%$/m);
    model.dispose();
  });
});

describe('sparsity schedules', () => {
  it('PolynomialDecay: TF-MOT\'s values and pruning steps', () => {
    const s = new PolynomialDecay({ initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 10, endStep: 110, frequency: 25 });
    assert.equal(s.sparsityAt(0), 0.9 + (0.1 - 0.9) * 1 ** 3); // 0.1 (up to float64 rounding, as TF-MOT computes it)
    assert.equal(s.sparsityAt(10), s.sparsityAt(0));
    assert.equal(s.sparsityAt(60), 0.9 + (0.1 - 0.9) * 0.5 ** 3); // 0.8
    assert.equal(s.sparsityAt(35), 0.9 + (0.1 - 0.9) * 0.75 ** 3); // 0.5625
    assert.equal(s.sparsityAt(110), 0.9);
    assert.equal(s.sparsityAt(500), 0.9);
    assert.deepEqual([...Array(130).keys()].filter((t) => s.prunesAt(t)), [10, 35, 60, 85, 110]);
    const one = new ConstantSparsity(0.5);
    assert.deepEqual([0, 1, 100].map((t) => [one.sparsityAt(), one.prunesAt(t)]), [[0.5, true], [0.5, false], [0.5, false]]);
  });

  it('fine-tuning schedule: three quarters of the updates, about 10 pruning steps, ending on one', () => {
    const s = fineTuningSchedule(0.75, 40);
    assert.equal(s.endStep, 30);
    assert.deepEqual([...Array(41).keys()].filter((t) => s.prunesAt(t)), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    assert.equal(s.sparsityAt(30), 0.75);
    assert.equal(fineTuningSchedule(0.5, 2000).endStep, 1500);
    assert.equal(fineTuningSchedule(0.5, 7, 2).endStep, 4);
  });
});

describe('pruning during fit()', () => {
  it('prunes at the schedule\'s steps and keeps pruned weights at 0 through Adam updates', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 3, seed: 6 });
    const data = tinyDataset(48, 24, 3);
    const loader = new DataLoader(data, { batchSize: 8, seed: 1, shuffle: true, workers: 0 }); // 6 updates an epoch
    const schedule = new PolynomialDecay({ initialSparsity: 0, finalSparsity: 0.8, beginStep: 0, endStep: 8, frequency: 2 });
    const pruning = new PruningCallback({ schedule, scope: 'layer', skip: null });
    const seen: number[][] = [];
    // Records after every update how many weights of conv3 are zero (the callback runs before this one).
    const probe = { name: 'probe', onBatchEnd: () => { seen.push([tf.tidy(() => tf.sum(tf.cast(tf.equal(model.getLayer('conv3').getWeights()[0], 0), 'int32')).dataSync()[0])]); } };
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    await fit(model, loader, { epochs: 2, optimizer, schedule: new ConstantSchedule(0.01), seed: 1, callbacks: [pruning, probe] });
    assert.deepEqual(pruning.pruningSteps, [0, 2, 4, 6, 8]);
    const n = 36864;
    const expected = (t: number) => Math.round(schedule.sparsityAt(t - (t % 2)) * n); // masks of the last pruning step
    assert.deepEqual(seen.map((s) => s[0]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(expected));
    const report = sparsityReport(model, ['conv2', 'conv3', 'dense1']);
    for (const row of report.layers.filter((r) => r.pruned)) assert.equal(row.zeros, Math.round(0.8 * row.params), row.layer);
    optimizer.dispose();
    pruning.dispose();
    await loader.close();
    model.dispose();
  });
});
