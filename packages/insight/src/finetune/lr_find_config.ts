// The config of `insight lr-find` (and `finetuneLrFind(options)`): the fine-tuning keys that make the model and its
// training batches (the same names, defaults and rules as `insight finetune`), plus the range test's own. Light:
// no tfjs, so `insight lr-find --help` and a bad flag answer at once.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { Text, validateConfig } from '../run/config_schema';
import { FINETUNE_SCHEMA, resolveFinetuneConfig, type FinetuneConfig } from './config';

const F = FINETUNE_SCHEMA.properties;

/** Every key of a range test: the model and data keys of fine-tuning, then the test's own. */
export const LR_FIND_SCHEMA = Type.Object({
  base: F.base, data: F.data, dataset: F.dataset, classes: F.classes, perClass: F.perClass, validationCount: F.validationCount,
  valData: F.valData, splitMethod: F.splitMethod, splitSeed: F.splitSeed, method: F.method, cutAt: F.cutAt, headInit: F.headInit, headFromBase: F.headFromBase,
  rank: F.rank, loraAlpha: F.loraAlpha, loraTargets: F.loraTargets, adapterBottleneck: F.adapterBottleneck, adapterAfter: F.adapterAfter,
  promptWidth: F.promptWidth, baseLrFactor: F.baseLrFactor, inputShape: F.inputShape, normalization: F.normalization,
  batchSize: F.batchSize, optimizer: F.optimizer, weightDecay: F.weightDecay, augment: F.augment,
  startLr: Type.Number({ default: 1e-7, exclusiveMinimum: 0, placeholder: '<rate>', help: 'The learning rate of the first update.' }),
  endLr: Type.Number({ default: 10, exclusiveMinimum: 0, placeholder: '<rate>', help: 'The learning rate of the last update (the ramp is exponential).' }),
  steps: Type.Integer({ default: 100, minimum: 2, placeholder: '<n>', help: 'Updates at most, one batch each; the test stops earlier when the loss diverges.' }),
  out: Text({ default: 'lr-find', placeholder: '<dir>', help: 'Where lr_find.json (every lr and loss, the suggestion) and lr_find.png (the plot) are written.' }),
  seed: F.seed, backend: F.backend, workers: F.workers,
});

export type LrFindConfig = Static<typeof LR_FIND_SCHEMA>;

/**
 * Validates a (partial) range-test config, fills in the defaults and checks its fine-tuning keys as `insight
 * finetune` would. Returns the config and the fine-tuning config it implies (for building the model and data).
 */
export function resolveLrFindConfig(input: unknown = {}, source = 'lr-find config'): { config: LrFindConfig; finetune: FinetuneConfig } {
  const config = validateConfig(LR_FIND_SCHEMA, input, source);
  if (!(config.endLr > config.startLr)) {
    throw ruleError('INSIGHT_E_CONFIG', 'The learning-rate range must satisfy startLr < endLr.', { startLr: config.startLr, endLr: config.endLr },
      'Pass e.g. --start-lr 1e-7 --end-lr 10.');
  }
  const { startLr: _s, endLr: _e, steps: _n, out: _o, ...finetuneKeys } = config;
  return { config, finetune: resolveFinetuneConfig(finetuneKeys, source) };
}
