// Random search draws from each parameter's prior (uniform, log-uniform, stepped, int, categorical; conditionals only
// when active); grid search walks the grid, skipping points that have a trial, and says when it is done; the sampler
// factory refuses unknown samplers and options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { streamRng } from '../../src/data/random';
import { InsightError } from '../../src/errors';
import { GridSampler, RandomSampler, sampleUniformly, samplerFromSpec, TpeSampler } from '../../src/tune/samplers';
import { parseSearchSpace } from '../../src/tune/space';
import { trial } from './sampler_trials';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[999] + sorted[1000]) / 2;
};

describe('RandomSampler', () => {
  const space = parseSearchSpace({
    lr: { type: 'float', low: 1e-4, high: 1e-2, log: true },
    dropout: { type: 'float', low: 0.1, high: 0.5 },
    batchSize: { type: 'int', low: 32, high: 256, step: 32 },
    depth: { type: 'int', low: 8, high: 15 },
    optimizer: ['adam', 'adamw', 'sgd'],
    momentum: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'sgd' } },
  });
  const rng = streamRng(7, 'random-sampler-test');
  const draws = Array.from({ length: 2000 }, () => new RandomSampler().sample(space, [], 'maximize', rng));

  it('keeps every value in its range and on its steps', () => {
    for (const p of draws) {
      assert.ok((p.lr as number) >= 1e-4 && (p.lr as number) <= 1e-2);
      assert.ok((p.dropout as number) >= 0.1 && (p.dropout as number) <= 0.5);
      assert.ok([32, 64, 96, 128, 160, 192, 224, 256].includes(p.batchSize as number));
      assert.ok(Number.isInteger(p.depth) && (p.depth as number) >= 8 && (p.depth as number) <= 15);
    }
    assert.equal(new Set(draws.map((p) => p.batchSize)).size, 8);
    assert.equal(new Set(draws.map((p) => p.depth)).size, 8);
  });

  it('is log-uniform for log ranges and uniform otherwise', () => {
    // The median of a log-uniform on [1e-4, 1e-2] is the geometric mean 1e-3 (a uniform's would be ~5e-3).
    const lrMedian = median(draws.map((p) => p.lr as number));
    assert.ok(lrMedian > 0.85e-3 && lrMedian < 1.15e-3, `median lr ${lrMedian}`);
    // A quarter of log-uniform mass lies below 10^-3.5.
    const below = draws.filter((p) => (p.lr as number) < 10 ** -3.5).length / 2000;
    assert.ok(Math.abs(below - 0.25) < 0.03, `share below 10^-3.5: ${below}`);
    const dropoutMedian = median(draws.map((p) => p.dropout as number));
    assert.ok(Math.abs(dropoutMedian - 0.3) < 0.02, `median dropout ${dropoutMedian}`);
  });

  it('draws categoricals uniformly and a conditional parameter exactly when it is active', () => {
    for (const choice of ['adam', 'adamw', 'sgd']) {
      const share = draws.filter((p) => p.optimizer === choice).length / 2000;
      assert.ok(Math.abs(share - 1 / 3) < 0.035, `${choice}: ${share}`);
    }
    for (const p of draws) assert.equal('momentum' in p, p.optimizer === 'sgd');
    assert.ok(draws.filter((p) => p.optimizer === 'sgd').every((p) => (p.momentum as number) >= 0.8 && (p.momentum as number) <= 0.99));
  });

  it('gives a log-scale int each integer the log-width of its cell', () => {
    const param = parseSearchSpace({ width: { type: 'int', low: 1, high: 8, log: true } }).params[0];
    const intRng = streamRng(3, 'int-log');
    const values = Array.from({ length: 4000 }, () => sampleUniformly(param, intRng) as number);
    // P(1) = (ln 1.5 - ln 0.5) / (ln 8.5 - ln 0.5) = ln 3 / ln 17 = 0.3878; P(8) = ln(8.5/7.5) / ln 17 = 0.0442.
    const share = (v: number) => values.filter((x) => x === v).length / 4000;
    assert.ok(Math.abs(share(1) - Math.log(3) / Math.log(17)) < 0.025, `P(1) = ${share(1)}`);
    assert.ok(Math.abs(share(8) - Math.log(8.5 / 7.5) / Math.log(17)) < 0.012, `P(8) = ${share(8)}`);
  });

  it('is deterministic for a seeded stream', () => {
    const a = new RandomSampler().sample(space, [], 'minimize', streamRng(11, 'x'));
    const b = new RandomSampler().sample(space, [], 'minimize', streamRng(11, 'x'));
    const c = new RandomSampler().sample(space, [], 'minimize', streamRng(12, 'x'));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('GridSampler', () => {
  const space = parseSearchSpace({
    optimizer: ['adam', 'sgd'],
    momentum: { type: 'float', low: 0.8, high: 0.99, grid: [0.8, 0.9], when: { optimizer: 'sgd' } },
  });
  const rng = streamRng(0);

  it('returns the first point without a trial (any state), then null once all have one', () => {
    const sampler = new GridSampler();
    assert.equal(sampler.pointsOf(space).length, 3);
    assert.deepEqual(sampler.sample(space, [], 'maximize', rng), { optimizer: 'adam' });
    const trials = [trial(0, { optimizer: 'adam' }, 'completed', 0.5), trial(1, { momentum: 0.9, optimizer: 'sgd' }, 'failed')];
    assert.deepEqual(sampler.sample(space, trials, 'maximize', rng), { optimizer: 'sgd', momentum: 0.8 });
    assert.deepEqual(sampler.remaining(space, trials), [{ optimizer: 'sgd', momentum: 0.8 }]);
    trials.push(trial(2, { optimizer: 'sgd', momentum: 0.8 }, 'running'));
    assert.equal(sampler.sample(space, trials, 'maximize', rng), null);
  });
});

describe('samplerFromSpec', () => {
  it('builds each sampler with its options', () => {
    assert.ok(samplerFromSpec({ name: 'random', seed: 1 }) instanceof RandomSampler);
    assert.ok(samplerFromSpec({ name: 'grid' }) instanceof GridSampler);
    const tpe = samplerFromSpec({ name: 'tpe', seed: 3, nStartupTrials: 5, nEiCandidates: 48 }) as TpeSampler;
    assert.deepEqual(tpe.options, { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, nStartupTrials: 5, nEiCandidates: 48 });
  });

  it('refuses unknown samplers, options and bad values', () => {
    const message = (spec: Record<string, unknown>) => {
      try {
        samplerFromSpec(spec);
      } catch (error) {
        assert.ok(error instanceof InsightError);
        return error.message;
      }
      return 'no error';
    };
    assert.equal(message({ name: 'cmaes' }), 'The sampler must be one of: tpe, random, grid. Received: sampler="cmaes". Pass e.g. --sampler tpe.');
    assert.equal(message({ name: 'random', nStartupTrials: 3 }), 'The random sampler takes only: name, seed. Received: sampler.nStartupTrials=3. Remove nStartupTrials.');
    assert.equal(message({ name: 'tpe', nEiCandidates: 0 }), 'sampler.nEiCandidates must be an integer >= 1. Received: sampler.nEiCandidates=0. Pass e.g. nEiCandidates: 24 (the default).');
    assert.equal(message({ name: 'tpe', priorWeight: -1 }), 'sampler.priorWeight must be a number > 0. Received: sampler.priorWeight=-1. Pass e.g. priorWeight: 1 (the default).');
  });
});
