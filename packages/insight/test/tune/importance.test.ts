// PED-ANOVA importance on synthetic studies: the one parameter that matters (numeric, categorical, or conditional)
// gets the lion's share, constants get exactly 0, the shares sum to 1; pruned trials count below completed ones;
// too few trials give a clear, finite answer. Plus the grid density against hand-computed values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Params } from '../../src/study/types';
import { gridPdf, paramImportance, scottGridPdf } from '../../src/tune/importance';
import { RandomSampler } from '../../src/tune/samplers';
import { parseSearchSpace } from '../../src/tune/space';
import { normalCdf } from '../../src/tune/samplers/normal';
import { runStudy, trial } from './sampler_trials';

const space = parseSearchSpace({
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  dropout: { type: 'float', low: 0, high: 0.5 },
  optimizer: ['adam', 'adamw', 'sgd'],
  momentum: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'sgd' } },
  batchSize: { type: 'int', low: 64, high: 64 }, // constant
  augment: ['flip'], // constant
});
const study = (objective: (p: Params) => number, seed: number) => runStudy(new RandomSampler(), space, objective, 60, seed, 'maximize');
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

describe('paramImportance', () => {
  it('finds the one numeric parameter that matters and gives constants 0', () => {
    // Measured lr: 0.986, 0.840, 0.971.
    for (const seed of [1, 2, 3]) {
      const importance = paramImportance(space, study((p) => -((Math.log10(p.lr as number) + 2.5) ** 2), seed), 'maximize');
      assert.ok(importance.lr > 0.8, `seed ${seed}: ${JSON.stringify(importance)}`);
      assert.equal(importance.batchSize, 0);
      assert.equal(importance.augment, 0);
      assert.ok(Math.abs(sum(importance) - 1) < 1e-12);
      assert.deepEqual(Object.keys(importance)[0], 'lr'); // largest first
    }
  });

  it('finds a categorical that matters, and a conditional one within its subspace', () => {
    // Measured optimizer: 0.841, 0.872, 0.971; momentum (only sgd trials can win, by their momentum): 0.871, 0.981, 0.890.
    for (const seed of [1, 2, 3]) {
      const byOptimizer = paramImportance(space, study((p) => (p.optimizer === 'adamw' ? 1 : 0), seed), 'maximize');
      assert.ok(byOptimizer.optimizer > 0.8, `seed ${seed}: ${JSON.stringify(byOptimizer)}`);
      // momentum never existed in a top (adamw) trial.
      assert.equal(byOptimizer.momentum, 0);
      const byMomentum = paramImportance(space, study((p) => (p.optimizer === 'sgd' ? p.momentum as number : 0.5), seed), 'maximize');
      assert.ok(byMomentum.momentum > 0.8, `seed ${seed}: ${JSON.stringify(byMomentum)}`);
    }
  });

  it('counts pruned trials below completed ones (ASHA: most trials stop early)', () => {
    // 40 random trials; those with lr far from 10^-2.5 were pruned after epoch 1 with a low value; the rest completed.
    const trials = study((p) => -((Math.log10(p.lr as number) + 2.5) ** 2), 5).slice(0, 40)
      .map((t) => ((t.value as number) < -0.5 ? trial(t.number, t.params, 'pruned', 0.1, [{ step: 1, value: 0.1 }]) : trial(t.number, t.params, 'completed', 0.9 + (t.value as number) / 10)));
    assert.ok(trials.filter((t) => t.state === 'pruned').length >= 20);
    const importance = paramImportance(space, trials, 'maximize');
    assert.ok(importance.lr > 0.8, JSON.stringify(importance));
  });

  it('gives a finite answer for too few trials: 0 with fewer than 2, equal shares of what varied with 2', () => {
    const all = study((p) => p.dropout as number, 1);
    const zero = { lr: 0, dropout: 0, optimizer: 0, momentum: 0, batchSize: 0, augment: 0 };
    assert.deepEqual(paramImportance(space, [], 'maximize'), zero);
    assert.deepEqual(paramImportance(space, all.slice(0, 1), 'maximize'), zero);
    const two = paramImportance(space, all.slice(0, 2), 'maximize');
    const varied = ['lr', 'dropout', ...(all[0].params.optimizer !== all[1].params.optimizer ? ['optimizer'] : [])];
    for (const name of varied) assert.equal(two[name], 1 / varied.length);
    assert.equal(two.batchSize, 0);
    // Running, waiting and failed trials are not results.
    assert.deepEqual(paramImportance(space, all.slice(0, 5).map((t) => ({ ...t, state: 'running' as const })), 'maximize'), zero);
  });
});

describe('the grid density', () => {
  it('is a mixture of discretised Gaussians (one occupied cell: Scott\'s minimum width 0.5/1.64) and the prior', () => {
    // Counts [0, 2, 0] on 3 cells: kernel at 1 with sigma 0.5/1.64 (std 0), weight 2/3; prior at 1 with sigma 3, weight 1/3.
    const s = 0.5 / 1.64;
    const mass = (mu: number, sigma: number, i: number) =>
      (normalCdf((i + 0.5 - mu) / sigma) - normalCdf((i - 0.5 - mu) / sigma)) / (normalCdf((2.5 - mu) / sigma) - normalCdf((-0.5 - mu) / sigma));
    const expected = [0, 1, 2].map((i) => (2 / 3) * mass(1, s, i) + (1 / 3) * mass(1, 3, i));
    scottGridPdf([0, 2, 0], 1).forEach((p, i) => assert.ok(Math.abs(p - expected[i]) < 1e-12, `cell ${i}: ${p} vs ${expected[i]}`));
    // By hand: the kernel keeps Φ(1.64) - Φ(-1.64) = 0.899 of its mass in its cell.
    // The prior keeps (Φ(1/6) - Φ(-1/6)) / (Φ(1/2) - Φ(-1/2)) = 0.1324 / 0.3829 = 0.3457 in the middle cell.
    assert.ok(Math.abs(expected[1] - ((2 / 3) * 0.8990 + (1 / 3) * 0.3457)) < 1e-3);
  });

  it('puts numeric values on 50 grid points (log-spaced for log ranges) and sums to 1', () => {
    // Three values in the lowest tenth of the log range (cells 0, 1, 5): the mass sits low.
    const pdf = gridPdf(space.byName.get('lr')!, [1e-4, 1.2e-4, 2e-4]);
    assert.equal(pdf.length, 50);
    assert.ok(Math.abs(pdf.reduce((a, b) => a + b, 0) - 1) < 1e-6); // erfc's fit: relative error < 1.2e-7
    assert.ok(pdf.slice(0, 10).reduce((a, b) => a + b, 0) > 0.6, pdf.slice(0, 10).join(' '));
    assert.ok(pdf[0] > pdf[25] && pdf[25] > pdf[49] * 0.5, `${pdf[0]} ${pdf[25]} ${pdf[49]}`);
    const optimizer = gridPdf(space.byName.get('optimizer')!, ['sgd', 'sgd', 'sgd', 'adam']);
    assert.equal(optimizer.length, 3);
    assert.ok(optimizer[2] > optimizer[0] && optimizer[0] > optimizer[1]);
  });
});
