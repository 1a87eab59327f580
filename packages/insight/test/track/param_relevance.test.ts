// Which hyperparameters the tables compare (param_relevance.ts): the conditions follow the schemas' help prefixes
// (`lora:`, `resnet:`, `sgd:` ...) in both directions, and mixed train and fine-tune runs at their defaults differ in a
// handful of keys, not in the union of both commands' keys (the 59 columns of issue 18 item 8).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { COMPRESS_SCHEMA, resolveCompressConfig } from '../../src/compress/config';
import { DISTILL_SCHEMA } from '../../src/compress/distill/config';
import { FINETUNE_SCHEMA, resolveFinetuneConfig } from '../../src/finetune/config';
import { fieldsOf } from '../../src/run/config_schema';
import { flattenConfig } from '../../src/track/flatten';
import { APPLIES_WHEN, NOT_HYPERPARAMETERS, appliesTo, differingParams, hyperparametersOf, runKind, type ComparedRun } from '../../src/track/param_relevance';
import { TRAIN_SCHEMA, resolveTrainConfig } from '../../src/train/config';

/** Help texts that say the key belongs to one setting, e.g. 'lora: rank of the update B·A.' */
const CONDITIONAL_HELP = /^(resnet|crop augmentation|cutout augmentation|adam\/adamw|sgd|cosine|step|reduce-on-plateau|lora|adapter|prompt|full|full, bn\+head|full, head-from-base|unstructured|polynomial):/i;
const SCHEMAS = { train: TRAIN_SCHEMA, finetune: FINETUNE_SCHEMA, distill: DISTILL_SCHEMA, compress: COMPRESS_SCHEMA };

const train = (config: Record<string, unknown> = {}): ComparedRun => ({ kind: 'train', params: flattenConfig(resolveTrainConfig(config) as Record<string, unknown>) });
const finetune = (config: Record<string, unknown> = {}): ComparedRun =>
  ({ kind: 'finetune', params: flattenConfig(resolveFinetuneConfig({ base: 'runs/x/model', ...config }) as Record<string, unknown>) });

describe('hyperparameter relevance', () => {
  for (const kind of ['train', 'finetune', 'distill', 'compress'] as const) {
    it(`${kind}: the conditional keys are exactly the schema keys whose help names a setting`, () => {
      const fields = fieldsOf(SCHEMAS[kind]);
      const conditional = fields.filter((f) => CONDITIONAL_HELP.test(f.help)).map((f) => f.key).sort();
      assert.deepEqual(Object.keys(APPLIES_WHEN[kind]).sort(), conditional);
    });
  }

  it('every key kept out of comparisons is a config key', () => {
    const keys = new Set([...fieldsOf(TRAIN_SCHEMA), ...fieldsOf(FINETUNE_SCHEMA)].map((f) => f.key));
    for (const key of NOT_HYPERPARAMETERS) assert.ok(keys.has(key), key);
  });

  it('a run\'s kind comes from its config; conditions follow the run\'s own settings', () => {
    assert.equal(runKind(resolveTrainConfig({}) as Record<string, unknown>), 'train');
    assert.equal(runKind(resolveFinetuneConfig({ base: 'b' }) as Record<string, unknown>), 'finetune');
    assert.equal(runKind({ ...resolveTrainConfig({}), teacher: 'runs/t', temperature: 4, alpha: 0.9 } as Record<string, unknown>), 'distill');
    const compress = resolveCompressConfig({ model: 'runs/x' }) as Record<string, unknown>;
    assert.equal(runKind(compress), 'compress');
    const compressed = (config: Record<string, unknown>): ComparedRun => ({ kind: 'compress', params: flattenConfig({ ...compress, ...config }) });
    assert.equal(appliesTo(compressed({}), 'pruneScope'), true);
    assert.equal(appliesTo(compressed({ structured: true }), 'pruneScope'), false, 'structured pruning prunes each convolution on its own');
    assert.equal(appliesTo(compressed({}), 'pruneFrequency'), true, 'polynomial is the default with fine-tuning epochs');
    assert.equal(appliesTo(compressed({ schedule: 'one-shot' }), 'pruneFrequency'), false);
    assert.equal(appliesTo(compressed({ epochs: 0 }), 'pruneFrequency'), false);
    assert.equal(appliesTo(train({ optimizer: 'sgd' }), 'momentum'), true);
    assert.equal(appliesTo(train({ optimizer: 'sgd' }), 'beta1'), false);
    assert.equal(appliesTo(train({ model: 'resnet' }), 'depth'), true);
    assert.equal(appliesTo(train(), 'depth'), false);
    assert.equal(appliesTo(train({ augment: ['flip', 'crop'] }), 'cropPadding'), true);
    assert.equal(appliesTo(train({ augment: ['flip'] }), 'cropPadding'), false);
    assert.equal(appliesTo(finetune({ method: 'lora' }), 'rank'), true);
    assert.equal(appliesTo(finetune({ method: 'full' }), 'rank'), false);
    assert.equal(appliesTo(finetune({ method: 'bn+head' }), 'l2sp'), true);
    assert.equal(appliesTo(finetune({ method: 'head', headFromBase: false }), 'baseLrFactor'), false);
    assert.equal(appliesTo(finetune({ method: 'head', headFromBase: true }), 'baseLrFactor'), true, 'a head taken from the base trains at lr x baseLrFactor');
    assert.equal(appliesTo(train(), 'runsDir'), false, 'where a run ran is no hyperparameter');
    assert.ok(!hyperparametersOf(finetune({ method: 'head', headFromBase: false })).some((key) => ['rank', 'adapterBottleneck', 'baseLrFactor', 'backend', 'name'].includes(key)));
  });

  it('mixed train and fine-tune runs differ only in what they share or vary within a kind', () => {
    const runs = [
      train({ name: 'baseline' }), train({ optimizer: 'sgd', lr: 0.1 }),
      finetune({ method: 'lora', rank: 8 }), finetune({ method: 'lora' }), finetune({ method: 'full' }),
    ];
    const union = new Set(runs.flatMap((run) => Object.keys(run.params)));
    assert.ok(union.size > 55, `the two kinds have ${union.size} keys between them`);
    const shown = differingParams(runs);
    assert.ok(shown.length <= 10, `few columns: ${shown.join(', ')}`);
    for (const key of ['optimizer', 'lr', 'method', 'rank']) assert.ok(shown.includes(key), `${key} in ${shown.join(', ')}`);
    // momentum applies to the sgd run only (one value); beta1 to the adam run only; the LoRA alpha, adapter sizes and
    // base lr factor are at their defaults wherever they apply; where runs ran and their names are no hyperparameters.
    for (const key of ['momentum', 'beta1', 'loraAlpha', 'adapterBottleneck', 'baseLrFactor', 'runsDir', 'name', 'base', 'depth']) {
      assert.ok(!shown.includes(key), `${key} not in ${shown.join(', ')}`);
    }
    assert.deepEqual(differingParams([train(), finetune()]).filter((key) => !(key in runs[0].params && key in runs[2].params)), [],
      'keys of one kind only never differ between one run of each kind');
  });
});
