// Search spaces: parsed from YAML, JSON or an object into sampling order; every mistake a house error with the exact
// rule, the received value and the fix; conditions (activeParams), point keys and the grid's order and count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { activeParams, gridPoints, gridValues, paramsKey, parseSearchSpace } from '../../src/tune/space';

const YAML_SPACE = `
lr: { type: float, low: 1e-4, high: 1e-2, log: true }
batchSize: { type: int, low: 32, high: 256, step: 32 }   # or log: true
momentum: { type: float, low: 0.8, high: 0.99, when: { optimizer: sgd } }
optimizer: { type: categorical, choices: [adam, adamw, sgd] }
augment: { type: categorical, choices: ["", "flip", "crop,flip"] }
`;

/** Asserts that parsing `input` throws INSIGHT_E_CONFIG with exactly `message`. */
function throwsExactly(input: unknown, message: string): void {
  assert.throws(() => parseSearchSpace(input), (error: unknown) => {
    assert.ok(error instanceof InsightError);
    assert.equal(error.code, 'INSIGHT_E_CONFIG');
    assert.equal(error.message, message);
    return true;
  });
}

describe('parseSearchSpace', () => {
  it('reads the YAML example into distributions, conditions after their parents', () => {
    const space = parseSearchSpace(YAML_SPACE);
    // momentum is declared before optimizer but samples after it.
    assert.deepEqual(space.params.map((p) => p.name), ['lr', 'batchSize', 'optimizer', 'momentum', 'augment']);
    assert.deepEqual(space.byName.get('lr'), { name: 'lr', type: 'float', low: 1e-4, high: 1e-2, log: true, step: null, grid: null, when: {} });
    assert.deepEqual(space.byName.get('batchSize'), { name: 'batchSize', type: 'int', low: 32, high: 256, log: false, step: 32, grid: null, when: {} });
    assert.deepEqual(space.byName.get('momentum')?.when, { optimizer: ['sgd'] });
    assert.deepEqual(space.byName.get('augment'), { name: 'augment', type: 'categorical', choices: ['', 'flip', 'crop,flip'], when: {} });
  });

  it('reads JSON text and objects alike; a list is a categorical; a list-valued key takes lists', () => {
    const fromJson = parseSearchSpace('{"optimizer": ["adam", "sgd"], "dropout": {"type": "float", "low": 0, "high": 0.5}}');
    const fromObject = parseSearchSpace({ optimizer: ['adam', 'sgd'], dropout: { type: 'float', low: 0, high: 0.5 } });
    assert.deepEqual(fromJson.params, fromObject.params);
    assert.deepEqual(fromObject.byName.get('optimizer'), { name: 'optimizer', type: 'categorical', choices: ['adam', 'sgd'], when: {} });
    assert.deepEqual(parseSearchSpace({ augment: [[], ['crop', 'flip']] }).params[0], { name: 'augment', type: 'categorical', choices: ['', 'crop,flip'], when: {} });
    assert.deepEqual(parseSearchSpace({ nesterov: [true, false], batchSize: { type: 'int', low: 16, high: 512, log: true } }).byName.get('batchSize'),
      { name: 'batchSize', type: 'int', low: 16, high: 512, log: true, step: 1, grid: null, when: {} });
  });

  it('refuses keys that are not training config keys, or not hyperparameters', () => {
    assert.throws(() => parseSearchSpace({ lrr: { type: 'float', low: 1e-4, high: 1e-2 } }),
      /^InsightError: A search space may only use known keys\. Received: lrr=\{"type":"float","low":0\.0001,"high":0\.01\}\. Did you mean 'lr'\? Valid keys: data, /);
    throwsExactly({ backend: ['cpu', 'torch'] },
      'A search space may only tune what a run computes, not how or where it runs. Received: backend=["cpu","torch"]. Set backend in the study\'s base config instead.');
    throwsExactly({}, 'A search space needs at least one parameter. Received: search space={}. Write e.g. lr: { type: float, low: 1e-4, high: 1e-2, log: true }.');
    throwsExactly('lr: { type: float, low: 1e-4',
      'A search space must be valid YAML or JSON. Received: error="Flow map in block collection must be sufficiently indented and end with a } at line 1, column 29:". Write one line per parameter, e.g. lr: { type: float, low: 1e-4, high: 1e-2, log: true }.');
  });

  it('refuses malformed entries with the rule, the value and the fix', () => {
    throwsExactly({ lr: { type: 'double', low: 1e-4, high: 1e-2 } },
      'lr: type must be float, int or categorical. Received: lr.type="double". Write e.g. lr: { type: float, low: 1e-4, high: 1e-2, log: true }.');
    throwsExactly({ lr: { type: 'float', low: 1e-4, hgih: 1e-2 } },
      'lr: unknown field of a float parameter. Received: lr.hgih=0.01. Use only: type, low, high, log, step, grid, gridPoints, when.');
    throwsExactly({ lr: { type: 'float', low: 1e-2, high: 1e-4 } },
      'lr: low and high must be numbers with low <= high. Received: lr.low=0.01, lr.high=0.0001. Swap them: low: 0.0001, high: 0.01.');
    throwsExactly({ lr: { type: 'float', low: 1e-4 } },
      'lr: low and high must be numbers with low <= high. Received: lr.low=0.0001, lr.high=undefined. Write e.g. lr: { type: float, low: 0.0001, high: 1 }.');
    throwsExactly({ weightDecay: { type: 'float', low: 0, high: 1e-2, log: true } },
      'weightDecay: a log-scale range must lie above 0. Received: weightDecay.low=0. Raise low above 0, or drop log: true.');
    throwsExactly({ batchSize: { type: 'int', low: 32, high: 250, step: 32 } },
      'batchSize: high - low must be a whole number of steps. Received: batchSize.low=32, batchSize.high=250, batchSize.step=32. Set high to 224.');
    throwsExactly({ batchSize: { type: 'int', low: 32, high: 256, step: 32, log: true } },
      'batchSize: log and step cannot be combined (a log-scale int has step 1). Received: batchSize.step=32, batchSize.log=true. Drop step, or drop log: true.');
    throwsExactly({ optimizer: { type: 'categorical', choices: [] } },
      'optimizer: a categorical parameter needs a non-empty list of choices. Received: optimizer.choices=[]. Write e.g. optimizer: { type: categorical, choices: [adam, adamw] }.');
    throwsExactly({ optimizer: ['adam', 'adam'] }, 'optimizer: choices must be distinct. Received: optimizer.choices=["adam","adam"]. List each choice once.');
  });

  it('checks ranges and choices against the training config\'s rules', () => {
    throwsExactly({ lr: { type: 'float', low: 0, high: 1e-2 } },
      'Every value a search space gives lr must be a legal lr: a number > 0. Received: lr.low=0. Keep lr\'s range and choices within that rule (see insight train --help).');
    throwsExactly({ dropout: { type: 'float', low: 0, high: 1 } },
      'Every value a search space gives dropout must be a legal dropout: a number >= 0 and < 1. Received: dropout.high=1. Keep dropout\'s range and choices within that rule (see insight train --help).');
    throwsExactly({ optimizer: ['adam', 'rmsprop'] },
      'Every value a search space gives optimizer must be a legal optimizer: one of adam, adamw, sgd. Received: optimizer.choices="rmsprop". Keep optimizer\'s range and choices within that rule (see insight train --help).');
    throwsExactly({ augment: ['', 'flip', 'crop,rotate'] },
      'Every value a search space gives augment must be a legal augment: a comma-separated list of crop, flip, cutout ("" = none). Received: augment.choices="crop,rotate". Keep augment\'s range and choices within that rule (see insight train --help).');
    throwsExactly({ batchSize: { type: 'float', low: 32, high: 256 } },
      'batchSize is an integer config key: search it as an int (or categorical) parameter. Received: batchSize.type="float". Write batchSize: { type: int, low: 32, high: 256 }.');
    throwsExactly({ model: { type: 'int', low: 1, high: 3 } },
      'model is not a numeric config key: search it as a categorical parameter. Received: model.type="int". Write model: { type: categorical, choices: ["seed-cnn"] }.');
    throwsExactly({ nesterov: ['yes', 'no'] },
      'Every value a search space gives nesterov must be a legal nesterov: true or false. Received: nesterov.choices="yes". Keep nesterov\'s range and choices within that rule (see insight train --help).');
  });

  it('checks conditions: categorical parents of the space, values among their choices, no cycles', () => {
    throwsExactly({ momentum: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'sgd' } } },
      'momentum: when may only name other categorical parameters of the space. Received: momentum.when={"optimizer":["sgd"]}, optimizer="not in the space". Add optimizer as { type: categorical, choices: [...] }, or drop the condition.');
    throwsExactly({ lr: { type: 'float', low: 1e-4, high: 1e-2 }, momentum: { type: 'float', low: 0.8, high: 0.99, when: { lr: 0.001 } } },
      'momentum: when may only name other categorical parameters of the space. Received: momentum.when={"lr":[0.001]}, lr="a float parameter". Add lr as { type: categorical, choices: [...] }, or drop the condition.');
    throwsExactly({ optimizer: ['adam', 'sgd'], momentum: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adamw' } } },
      'momentum: when values must be choices of optimizer. Received: momentum.when.optimizer="adamw", optimizer.choices=["adam","sgd"]. Use one of: "adam", "sgd".');
    throwsExactly({
      optimizer: { type: 'categorical', choices: ['adam', 'sgd'], when: { schedule: 'cosine' } },
      schedule: { type: 'categorical', choices: ['constant', 'cosine'], when: { optimizer: 'sgd' } },
    }, 'Search-space conditions must not form a cycle. Received: cycle="optimizer -> schedule -> optimizer". Make one of these parameters unconditional.');
    throwsExactly({ momentum: { type: 'float', low: 0.8, high: 0.99, when: 'sgd' } },
      'momentum: when must map categorical parameters to the value (or list of values) that activate it. Received: momentum.when="sgd". Write e.g. when: { optimizer: sgd }.');
  });
});

describe('activeParams and paramsKey', () => {
  const space = parseSearchSpace({
    optimizer: ['adam', 'adamw', 'sgd'],
    momentum: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'sgd' } },
    nesterov: { type: 'categorical', choices: [true, false], when: { optimizer: 'sgd' } },
    beta1: { type: 'float', low: 0.8, high: 0.95, when: { optimizer: ['adam', 'adamw'] } },
    schedule: ['constant', 'cosine'],
    warmupEpochs: { type: 'float', low: 0, high: 2, when: { schedule: 'cosine' } },
    // Two levels: nesterov is itself conditional on sgd.
    lr: { type: 'float', low: 1e-4, high: 1e-1, log: true, when: { nesterov: true } },
  });
  const names = (params: Record<string, string | number | boolean>) => activeParams(space, params).map((p) => p.name);

  it('includes a conditional parameter only when its parents hold an activating value', () => {
    assert.deepEqual(names({}), ['optimizer', 'schedule']);
    assert.deepEqual(names({ optimizer: 'sgd', schedule: 'constant' }), ['optimizer', 'momentum', 'nesterov', 'schedule']);
    assert.deepEqual(names({ optimizer: 'adamw', schedule: 'cosine' }), ['optimizer', 'beta1', 'schedule', 'warmupEpochs']);
    assert.deepEqual(names({ optimizer: 'sgd', nesterov: true, schedule: 'cosine' }),
      ['optimizer', 'momentum', 'nesterov', 'schedule', 'warmupEpochs', 'lr']);
    // nesterov: true left over from an sgd trial does not activate lr once nesterov's own parent is not sgd.
    assert.deepEqual(names({ optimizer: 'adam', schedule: 'constant' }), ['optimizer', 'beta1', 'schedule']);
    assert.deepEqual(names({ optimizer: 'sgd', nesterov: false, schedule: 'constant' }), ['optimizer', 'momentum', 'nesterov', 'schedule']);
  });

  it('gives equal points the same key, whatever the key order', () => {
    assert.equal(paramsKey({ b: 1, a: 'x' }), '{"a":"x","b":1}');
    assert.equal(paramsKey({ a: 'x', b: 1 }), paramsKey({ b: 1, a: 'x' }));
    assert.equal(paramsKey({ a: -0 }), paramsKey({ a: 0 }));
    assert.notEqual(paramsKey({ a: 1 }), paramsKey({ a: '1' }));
    assert.notEqual(paramsKey({ a: true }), paramsKey({ a: 'true' }));
  });
});

describe('gridPoints', () => {
  it('enumerates categoricals, stepped ints and float grids, the first parameter slowest', () => {
    const space = parseSearchSpace({
      optimizer: ['adam', 'sgd'],
      batchSize: { type: 'int', low: 32, high: 96, step: 32 },
      lr: { type: 'float', low: 1e-4, high: 1e-2, log: true, gridPoints: 3 },
    });
    assert.deepEqual(gridValues(space.byName.get('lr')!).map((v) => Number((v as number).toPrecision(12))), [1e-4, 1e-3, 1e-2]);
    const points = gridPoints(space);
    assert.equal(points.length, 2 * 3 * 3);
    assert.deepEqual(points.slice(0, 4).map((p) => [p.optimizer, p.batchSize]), [['adam', 32], ['adam', 32], ['adam', 32], ['adam', 64]]);
    assert.deepEqual(points[17].optimizer, 'sgd');
    assert.equal(new Set(points.map(paramsKey)).size, 18);
  });

  it('varies a conditional parameter only under the branches that activate it', () => {
    const space = parseSearchSpace({
      optimizer: ['adam', 'sgd'],
      momentum: { type: 'float', low: 0.8, high: 0.99, grid: [0.8, 0.9], when: { optimizer: 'sgd' } },
      dropout: { type: 'float', low: 0, high: 0.5, step: 0.25 },
    });
    assert.deepEqual(gridPoints(space), [
      { optimizer: 'adam', dropout: 0 }, { optimizer: 'adam', dropout: 0.25 }, { optimizer: 'adam', dropout: 0.5 },
      { optimizer: 'sgd', momentum: 0.8, dropout: 0 }, { optimizer: 'sgd', momentum: 0.8, dropout: 0.25 }, { optimizer: 'sgd', momentum: 0.8, dropout: 0.5 },
      { optimizer: 'sgd', momentum: 0.9, dropout: 0 }, { optimizer: 'sgd', momentum: 0.9, dropout: 0.25 }, { optimizer: 'sgd', momentum: 0.9, dropout: 0.5 },
    ]);
  });

  it('spreads int gridPoints on a log scale and steps without float noise', () => {
    const space = parseSearchSpace({ batchSize: { type: 'int', low: 16, high: 256, log: true, gridPoints: 5 }, labelSmoothing: { type: 'float', low: 0, high: 0.3, step: 0.1 } });
    assert.deepEqual(gridValues(space.byName.get('batchSize')!), [16, 32, 64, 128, 256]);
    assert.deepEqual(gridValues(space.byName.get('labelSmoothing')!), [0, 0.1, 0.2, 0.3]);
    assert.deepEqual(gridValues(parseSearchSpace({ dropout: { type: 'float', low: 0.25, high: 0.25 } }).params[0]), [0.25]);
  });

  it('asks for the values of a float range, and refuses a grid outside the range', () => {
    assert.throws(() => gridPoints(parseSearchSpace({ lr: { type: 'float', low: 1e-4, high: 1e-2 } })), (error: unknown) => {
      assert.ok(error instanceof InsightError);
      assert.equal(error.message, 'A grid search needs the values of every float parameter: lr has none. Received: lr={"type":"float","low":0.0001,"high":0.01}. Add grid: [0.0001, 0.01] (the values to try) or gridPoints: 5 to lr.');
      return true;
    });
    throwsExactly({ lr: { type: 'float', low: 1e-4, high: 1e-2, grid: [1e-3, 0.1] } },
      'lr: grid must list distinct values of the range. Received: lr.grid=[0.001,0.1], lr.low=0.0001, lr.high=0.01. Write e.g. grid: [0.0001, 0.01].');
  });
});
