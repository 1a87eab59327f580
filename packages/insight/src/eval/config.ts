// The typed configs of `insight evaluate` and `insight predict`, validated once like the training config.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { parseTta, TTA_SYNTAX } from '../models/tta_settings';
import { FIELDS, SPLIT_METHODS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';

/** The saved model both commands take as their first argument. */
const MODEL = Text({ noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.',
  missing: { rule: 'A model directory or run directory is required.', fix: 'Pass it as the first argument, e.g. runs/<run-id>.' } });
const BACKEND = withOptions(FIELDS.backend, { help: 'Compute backend (as for train).' });
/** Test-time augmentation; null = the model's metadata (inference.tta), else none. Parsed by models/tta_settings.ts. */
export const TTA_FIELD = Nullable(Text(), { placeholder: '<views>',
  help: `Test-time augmentation, probabilities averaged over views: ${TTA_SYNTAX} (N pixels, default 1; reflect-padded diagonal shifts both ways). Default: the model's stored setting, else none.` });

export const EVALUATE_SCHEMA = Type.Object({
  model: MODEL,
  data: withOptions(FIELDS.data, { help: 'Dataset (as for train). Default: the run\'s own dataset when <model> is a run, else CIFAR-10 from the cache.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  split: OneOf(['validation', 'test', 'train', 'all'], { default: 'validation', placeholder: '<split>',
    help: 'validation: the held-out images (a run\'s own, as recorded in its data.json); test: CIFAR-10\'s test_batch.bin; train: the rest; all: every image.' }),
  limit: withOptions(FIELDS.limit, { help: 'Use only <n> images before splitting (as for train). Default: the run\'s --limit.' }),
  validationCount: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: 'Size of the validation split. Default: the run\'s, else 10% of the images.' }),
  splitMethod: Nullable(OneOf(SPLIT_METHODS), { placeholder: '<method>',
    help: 'How the validation split is chosen (as for train). Default: the run\'s, else auto (stratified for image folders, last for CIFAR-10).' }),
  splitSeed: Nullable(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }), { placeholder: '<n>', help: 'Seed of the stratified split. Default: the run\'s, else 0.' }),
  batchSize: withOptions(FIELDS.batchSize, { default: 256, help: 'Images per inference batch.' }),
  topK: withOptions(FIELDS.topK, { help: 'Report top-<k> accuracy.' }),
  out: Nullable(Text(), { placeholder: '<dir>', help: 'Write the report (metrics.json, confusion.png, per_class.txt, confusion.txt, reliability.png) to <dir>.' }),
  tta: TTA_FIELD,
  backend: BACKEND,
  workers: withOptions(FIELDS.workers, { help: 'Data loader threads (0 = main thread).' }),
});

export type EvaluateConfig = Static<typeof EVALUATE_SCHEMA>;

export const PREDICT_SCHEMA = Type.Object({
  model: MODEL,
  images: Type.Array(Type.String({ minLength: 1, description: 'paths' }), { default: [], noFlag: true, placeholder: '<images...>',
    help: 'Image files, or folders (searched recursively).' }),
  topK: withOptions(FIELDS.topK, { default: 3, help: 'Print the <k> most probable classes per image.' }),
  tta: TTA_FIELD,
  backend: BACKEND,
  json: Type.Boolean({ default: false, placeholder: '<bool>', help: 'Print one JSON object per image instead of a table.' }),
  strict: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Stop at the first file that cannot be read as an image (default: report it, with the reason, and go on).' }),
});

export type PredictConfig = Static<typeof PREDICT_SCHEMA>;

/** Validates an evaluate config; `model` is required. */
export function resolveEvaluateConfig(input: unknown): EvaluateConfig {
  const config = validateConfig(EVALUATE_SCHEMA, input, 'evaluate config');
  if (config.tta !== null) parseTta(config.tta);
  return config;
}

/** Validates a predict config; `model` and at least one image are required. */
export function resolvePredictConfig(input: unknown): PredictConfig {
  const config = validateConfig(PREDICT_SCHEMA, input, 'predict config');
  if (config.tta !== null) parseTta(config.tta);
  if (config.images.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'predict needs at least one image file or folder.', { images: [] },
      'Pass e.g. `insight predict runs/<run-id> cat.jpg photos/`.');
  }
  return config;
}
