// Config validation: types, ranges, lists, nulls, unknown keys with suggestions — each message checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { flagOf, validateConfig, type Schema } from '../../src/run/config_schema';

const schema: Schema = {
  batchSize: { type: 'int', default: 64, min: 1, help: '' },
  lr: { type: 'number', default: 0.001, min: 0, minExclusive: true, help: '' },
  limit: { type: 'int', default: null, nullable: true, min: 2, help: '' },
  optimizer: { type: 'enum', default: 'adam', values: ['adam', 'sgd'], help: '' },
  augment: { type: 'list', default: [], values: ['crop', 'flip'], help: '' },
  nesterov: { type: 'bool', default: false, help: '' },
};

function fails(input: unknown, message: string): void {
  assert.throws(() => validateConfig(schema, input), (e: unknown) => {
    assert.ok(e instanceof InsightError);
    assert.equal(e.code, 'INSIGHT_E_CONFIG');
    assert.equal(e.message, message);
    return true;
  });
}

describe('validateConfig', () => {
  it('fills defaults and parses command-line strings', () => {
    assert.deepEqual(validateConfig(schema, { batchSize: '32', lr: '1e-2', augment: 'crop, flip', nesterov: 'true', limit: 'null' }),
      { batchSize: 32, lr: 0.01, limit: null, optimizer: 'adam', augment: ['crop', 'flip'], nesterov: true });
    assert.deepEqual(validateConfig(schema, { augment: 'none' }).augment, []);
  });

  it('states rule, received value and fix', () => {
    fails({ batchSize: 0 }, 'batchSize must be an integer >= 1. Received: batchSize=0. Pass e.g. --batch-size 64 (default: 64).');
    fails({ batchSize: '2.5' }, 'batchSize must be an integer >= 1. Received: batchSize=2.5. Pass e.g. --batch-size 64 (default: 64).');
    fails({ lr: 0 }, 'lr must be a number > 0. Received: lr=0. Pass e.g. --lr 0.001 (default: 0.001).');
    fails({ lr: 'fast' }, 'lr must be a number > 0. Received: lr="fast". Pass e.g. --lr 0.001 (default: 0.001).');
    fails({ optimizer: 'rmsprop' }, 'optimizer must be one of: adam, sgd. Received: optimizer="rmsprop". Pass e.g. --optimizer adam (default: adam).');
    fails({ augment: 'crop,rotate' }, 'augment must be a list (or comma-separated string) of: crop, flip; or \'none\'. Received: augment="crop,rotate". Pass e.g. --augment crop,flip (default: none).');
    fails({ nesterov: 'yes' }, 'nesterov must be true or false. Received: nesterov="yes". Pass e.g. --nesterov false (default: false).');
    fails({ limit: 1 }, 'limit must be an integer >= 2 (or null). Received: limit=1. Fix --limit.');
  });

  it('rejects unknown keys, suggesting the likely one and listing all', () => {
    fails({ batchsize: 3 }, 'A config may only use known keys. Received: batchsize=3. Did you mean \'batchSize\'? Valid keys: batchSize, lr, limit, optimizer, augment, nesterov.');
    fails({ colour: 'red' }, 'A config may only use known keys. Received: colour="red". Valid keys: batchSize, lr, limit, optimizer, augment, nesterov.');
  });

  it('maps keys to flags', () => {
    assert.equal(flagOf('earlyStoppingPatience'), '--early-stopping-patience');
  });
});
