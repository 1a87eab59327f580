// A study's spec → what its workers sample and prune with (tune/strategy.ts): every sampler and pruner name the CLI
// offers builds the real component with the spec's options, and a bad spec fails with the component's rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { streamRng } from '../../src/data/random';
import { AshaPruner } from '../../src/tune/pruners/asha';
import { MedianPruner } from '../../src/tune/pruners/median';
import { PRUNER_NAMES } from '../../src/tune/pruners';
import { NopPruner } from '../../src/tune/pruners/none';
import { GridSampler } from '../../src/tune/samplers/grid';
import { SAMPLER_NAMES } from '../../src/tune/samplers';
import { RandomSampler } from '../../src/tune/samplers/random';
import { TpeSampler } from '../../src/tune/samplers/tpe';
import { strategyOf } from '../../src/tune/strategy';

const SPACE = { lr: { type: 'float', low: 1e-4, high: 1e-1, log: true, gridPoints: 3 }, optimizer: ['adam', 'sgd'] };
const spec = (sampler: Record<string, unknown>, pruner: Record<string, unknown>, baseConfig: Record<string, unknown> = {}) => ({ name: 's', space: SPACE, sampler, pruner, baseConfig });

describe('strategyOf', () => {
  it('builds every sampler and pruner the CLI offers', () => {
    const samplers = { tpe: TpeSampler, random: RandomSampler, grid: GridSampler };
    const pruners = { asha: AshaPruner, median: MedianPruner, none: NopPruner };
    assert.deepEqual([...SAMPLER_NAMES].sort(), Object.keys(samplers).sort());
    assert.deepEqual([...PRUNER_NAMES].sort(), Object.keys(pruners).sort());
    for (const name of SAMPLER_NAMES) assert.ok(strategyOf(spec({ name, seed: 3 }, { name: 'none' })).sampler instanceof samplers[name], name);
    for (const name of PRUNER_NAMES) assert.ok(strategyOf(spec({ name: 'random' }, { name })).pruner instanceof pruners[name], name);
  });

  it('passes the spec\'s options on, and parses the space once', () => {
    const strategy = strategyOf(spec({ name: 'tpe', seed: 1, nStartupTrials: 2 }, { name: 'asha', reductionFactor: 2, minEpochs: 2 }));
    assert.equal((strategy.sampler as TpeSampler).options.nStartupTrials, 2);
    // R: the base config's epochs, else train's default (10).
    assert.deepEqual((strategy.pruner as AshaPruner).options, { minResource: 2, reductionFactor: 2, minEarlyStoppingRate: 0, maxResource: 10 });
    assert.equal((strategyOf(spec({ name: 'random' }, { name: 'asha' }, { epochs: 27 })).pruner as AshaPruner).options.maxResource, 27);
    assert.deepEqual(strategy.space.params.map((p) => p.name), ['lr', 'optimizer']);
    const params = strategy.sampler.sample(strategy.space, [], 'maximize', streamRng(1, 'tune', 0, 0));
    assert.ok(params !== null && typeof params.lr === 'number' && params.lr >= 1e-4 && params.lr <= 0.1, JSON.stringify(params));
    assert.ok(['adam', 'sgd'].includes(params.optimizer as string));
    const grid = strategyOf(spec({ name: 'grid' }, { name: 'none' }));
    assert.equal((grid.sampler as GridSampler).pointsOf(grid.space).length, 6, '3 lr points x 2 optimizers');
  });

  it('refuses an unknown option with the component\'s rule', () => {
    assert.throws(() => strategyOf(spec({ name: 'random' }, { name: 'asha', patience: 3 })),
      (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && /The asha pruner takes only: /.test(e.message));
    assert.throws(() => strategyOf(spec({ name: 'tpe', nStartupTrials: -1 }, { name: 'none' })),
      (e: unknown) => e instanceof InsightError && /sampler\.nStartupTrials must be an integer >= 0\./.test(e.message));
  });

  it('refuses epochs in the space under ASHA (it allots the epochs), and takes it under median and none', () => {
    const withEpochs = (pruner: string) => ({ name: 's', space: { ...SPACE, epochs: { type: 'int', low: 2, high: 9 } }, sampler: { name: 'random' }, pruner: { name: pruner }, baseConfig: {} });
    assert.throws(() => strategyOf(withEpochs('asha')), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' &&
      /A study pruned by ASHA cannot search epochs/.test(e.message) && /Received: study="s", pruner="asha", space="epochs"/.test(e.message) &&
      /--pruner median or none/.test(e.message));
    for (const pruner of ['median', 'none']) assert.deepEqual(strategyOf(withEpochs(pruner)).space.params.map((p) => p.name), ['lr', 'optimizer', 'epochs']);
  });

  it('refuses ASHA when a full trial is too short for its first rung to promote to more epochs', () => {
    assert.throws(() => strategyOf(spec({ name: 'random' }, { name: 'asha', minEpochs: 2 }, { epochs: 5 })), (e: unknown) => e instanceof InsightError &&
      e.code === 'INSIGHT_E_CONFIG' && /at least \(first rung\) x \(reduction factor\) = 2 x 3 = 6 epochs/.test(e.message) &&
      /Received: study="s", epochs=5, minEpochs=2, reductionFactor=3/.test(e.message) && /Pass --epochs 6 or more/.test(e.message));
    assert.deepEqual((strategyOf(spec({ name: 'random' }, { name: 'asha', minEpochs: 2 }, { epochs: 6 })).pruner as AshaPruner).rungSteps(), [2]);
  });
});
