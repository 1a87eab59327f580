// Config validation: types, ranges, lists, nulls, required keys, unknown keys with suggestions — each message
// checked — and the schemas themselves: TypeBox objects whose validated values TypeBox's own checker accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

import { InsightError } from '../../src/errors';
import { EVALUATE_SCHEMA, PREDICT_SCHEMA, type EvaluateConfig, type PredictConfig } from '../../src/eval/config';
import { FINETUNE_SCHEMA, type FinetuneConfig } from '../../src/finetune/config';
import { FIELDS } from '../../src/run/config_fields';
import { fieldsOf, flagOf, ListOf, Nullable, OneOf, Text, validateConfig, withOptions, type ConfigSchema } from '../../src/run/config_schema';
import { SERVE_SCHEMA, type ServeConfig } from '../../src/serve/config';
import { RUNS_COMPARE_SCHEMA, RUNS_SCHEMA, RUNS_TAG_SCHEMA, type RunsOptions } from '../../src/track/config';
import { DASHBOARD_SCHEMA } from '../../src/track/dashboard/config';
import { TRAIN_DEFAULTS, TRAIN_SCHEMA, type TrainConfig } from '../../src/train/config';

const schema = Type.Object({
  batchSize: Type.Integer({ default: 64, minimum: 1, help: '' }),
  lr: Type.Number({ default: 0.001, exclusiveMinimum: 0, help: '' }),
  limit: Nullable(Type.Integer({ minimum: 2 }), { help: '' }),
  optimizer: OneOf(['adam', 'sgd'], { default: 'adam', help: '' }),
  augment: ListOf(['crop', 'flip'], { default: [], help: '' }),
  nesterov: Type.Boolean({ default: false, help: '' }),
});

function fails(input: unknown, message: string, on: ConfigSchema = schema): void {
  assert.throws(() => validateConfig(on, input), (e: unknown) => {
    assert.ok(e instanceof InsightError);
    assert.equal(e.code, 'INSIGHT_E_CONFIG');
    assert.equal(e.message, message);
    return true;
  });
}

const ALL_SCHEMAS = { TRAIN_SCHEMA, FINETUNE_SCHEMA, EVALUATE_SCHEMA, PREDICT_SCHEMA, SERVE_SCHEMA, DASHBOARD_SCHEMA, RUNS_SCHEMA, RUNS_COMPARE_SCHEMA, RUNS_TAG_SCHEMA };

describe('validateConfig', () => {
  it('fills defaults and parses command-line strings', () => {
    assert.deepEqual(validateConfig(schema, { batchSize: '32', lr: '1e-2', augment: 'crop, flip', nesterov: 'true', limit: 'null' }),
      { batchSize: 32, lr: 0.01, limit: null, optimizer: 'adam', augment: ['crop', 'flip'], nesterov: true });
    assert.deepEqual(validateConfig(schema, { augment: 'none' }).augment, []);
    assert.equal(validateConfig(schema, { lr: '8/255' }).lr, 8 / 255); // a fraction, as attack radii are written
    assert.equal(validateConfig(schema, { lr: ' 1 / 4 ' }).lr, 0.25);
    fails({ lr: '1/0' }, 'lr must be a number > 0. Received: lr="1/0". Pass e.g. --lr 0.001 (default: 0.001).');
    fails({ lr: '8/255/2' }, 'lr must be a number > 0. Received: lr="8/255/2". Pass e.g. --lr 0.001 (default: 0.001).');
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

  it('requires keys without a default, with their own rule and fix (absent or null alike)', () => {
    const required = Type.Object({
      model: Text({ noFlag: true, help: '', missing: { rule: 'A model is required.', fix: 'Pass it first.' } }),
      port: Type.Integer({ help: '', placeholder: '<port>' }),
    });
    fails({ port: 1 }, 'A model is required. Received: model=null. Pass it first.', required);
    fails({ model: null, port: 1 }, 'A model is required. Received: model=null. Pass it first.', required);
    fails({ model: 'm' }, 'port is required. Received: port=null. Pass --port <port>.', required);
    fails({ model: '' }, 'model must be a string. Received: model="". Fix \'model\'.', required);
    assert.deepEqual(validateConfig(required, { model: 'm', port: '80' }), { model: 'm', port: 80 });
  });

  it('reads repeated string values, one or many', () => {
    const paths = Type.Object({ images: Type.Array(Type.String({ minLength: 1, description: 'paths' }), { default: [], help: '' }) });
    assert.deepEqual(validateConfig(paths, { images: 'a.jpg' }), { images: ['a.jpg'] });
    assert.deepEqual(validateConfig(paths, { images: ['a.jpg', 'b/'] }), { images: ['a.jpg', 'b/'] });
    fails({ images: ['a.jpg', ''] }, 'images must be a list of paths. Received: images=["a.jpg",""]. Fix --images.', paths);
  });

  it('maps keys to flags', () => {
    assert.equal(flagOf('earlyStoppingPatience'), '--early-stopping-patience');
  });
});

describe('config schemas', () => {
  it('adapting a shared field keeps its rule and changes only what is given', () => {
    const topK = withOptions(FIELDS.topK, { default: 3, help: 'k' });
    assert.deepEqual({ ...topK, default: 5, help: FIELDS.topK.help }, { ...FIELDS.topK });
    assert.equal(FIELDS.topK.default, 5, 'the shared field is not changed');
    fails({ topK: 0 }, 'topK must be an integer >= 1. Received: topK=0. Pass e.g. --top-k 3 (default: 3).', Type.Object({ topK }));
  });

  it('shared fields are one definition across commands', () => {
    for (const key of ['backend', 'workers', 'dataset', 'progress', 'augment', 'seed', 'runsDir', 'topK', 'data'] as const) {
      // serve's workers are worker processes, not data loader threads: another key that shares the name.
      const users = Object.values(ALL_SCHEMAS).filter((s) => key in s.properties && !(s === SERVE_SCHEMA && key === 'workers'));
      assert.ok(users.length >= 2, key);
      for (const s of users) {
        const { help: _h, default: _d, ...rule } = (s.properties as Record<string, unknown>)[key] as Record<string, unknown>;
        const { help: _sh, default: _sd, ...shared } = FIELDS[key] as unknown as Record<string, unknown>;
        assert.deepEqual(rule, shared, `${key} follows FIELDS.${key}`);
      }
    }
  });

  it('every field of every command has help, a placeholder where it takes a value, and a readable kind', () => {
    for (const [name, s] of Object.entries(ALL_SCHEMAS)) {
      for (const field of fieldsOf(s)) {
        assert.ok(field.help.length > 0, `${name}.${field.key}: help`);
        if (field.kind !== 'bool' && !field.noFlag) assert.match(field.placeholder ?? '', /^<.+>$/, `${name}.${field.key}: placeholder`);
        if (field.required) assert.ok(field.missing, `${name}.${field.key}: a required key states its rule`);
      }
    }
  });

  it('validated configs conform to their TypeBox schema; the defaults too', () => {
    const inputs: [ConfigSchema, unknown][] = [
      [TRAIN_SCHEMA, { epochs: '2', augment: 'crop,flip', limit: '100', validationCount: 'null', nesterov: 'true' }],
      [FINETUNE_SCHEMA, { base: 'runs/x', method: 'lora', loraAlpha: '8', augment: ['flip'] }],
      [EVALUATE_SCHEMA, { model: 'm', split: 'test', topK: '3' }],
      [PREDICT_SCHEMA, { model: 'm', images: ['a.jpg'] }],
      [SERVE_SCHEMA, { models: 'models', port: '0' }],
      [DASHBOARD_SCHEMA, {}],
      [RUNS_SCHEMA, { where: ['lr<0.1'], limit: '2' }],
      [RUNS_TAG_SCHEMA, { remove: true }],
    ];
    for (const [s, input] of inputs) {
      const config = validateConfig(s, input);
      assert.ok(Value.Check(s, config), `${JSON.stringify(config)}: ${[...Value.Errors(s, config)].map((e) => `${e.path} ${e.message}`).join('; ')}`);
    }
    assert.ok(Value.Check(TRAIN_SCHEMA, TRAIN_DEFAULTS));
  });

  it('TRAIN_DEFAULTS is the reference recipe, frozen', () => {
    assert.deepEqual(TRAIN_DEFAULTS, validateConfig(TRAIN_SCHEMA, {}));
    assert.equal(TRAIN_DEFAULTS.model, 'seed-cnn');
    assert.equal(TRAIN_DEFAULTS.optimizer, 'adam');
    assert.equal(TRAIN_DEFAULTS.lr, 1e-3);
    assert.equal(TRAIN_DEFAULTS.batchSize, 64);
    assert.equal(TRAIN_DEFAULTS.epochs, 10);
    assert.ok(Object.isFrozen(TRAIN_DEFAULTS) && Object.isFrozen(TRAIN_DEFAULTS.augment));
  });

  it('refuses property kinds it cannot read, and fields without help', () => {
    assert.throws(() => fieldsOf(Type.Object({ when: Type.Date({ help: '' }) })), /Config key when: a config property must be/);
    assert.throws(() => fieldsOf(Type.Object({ n: Type.Integer({ default: 1 }) })), /Config key n: every config property needs a help line/);
  });
});

// Compile-time checks (`npm run typecheck`): each config type is what its schema says, key by key.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const derivedTypes: [
  Equal<TrainConfig['augment'], ('crop' | 'flip' | 'cutout')[]>,
  Equal<TrainConfig['limit'], number | null>,
  Equal<TrainConfig['model'], string>, // a zoo name or a file with the user's own model
  Equal<TrainConfig['nesterov'], boolean>,
  Equal<FinetuneConfig['base'], string>,
  Equal<FinetuneConfig['optimizer'], 'adam' | 'adamw' | 'sgd'>,
  Equal<FinetuneConfig['warmupEpochs'], number | null>,
  Equal<EvaluateConfig['model'], string>,
  Equal<PredictConfig['images'], string[]>,
  Equal<ServeConfig['computeThreads'], number | null>,
  Equal<RunsOptions['where'], string[]>,
] = [true, true, true, true, true, true, true, true, true, true, true];

describe('config types', () => {
  it('are derived from the schemas (checked by the compiler)', () => {
    assert.ok(derivedTypes.every(Boolean));
  });
});
