// The typed config of `insight calibrate`, validated once like evaluate's. The images are chosen as evaluate
// chooses them (run/evaluation_split.ts): a run's own validation split by default, or --data split the same way.
import { Type, type Static } from '@sinclair/typebox';

import { FIELDS, SPLIT_METHODS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';

/** Equal-width bins, as Guo et al. 2017 and most later work report ECE (here, not in ece.ts: `--help` loads no tfjs). */
export const DEFAULT_CALIBRATION_BINS = 15;

/** --bins, of calibrate and evaluate. */
export const CALIBRATION_BINS_FIELD = Type.Integer({ default: DEFAULT_CALIBRATION_BINS, minimum: 1, maximum: 1000, placeholder: '<n>',
  help: 'Equal-width confidence bins of the expected calibration error and the reliability diagrams.' });

export const CALIBRATE_SCHEMA = Type.Object({
  model: Text({ noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.',
    missing: { rule: 'A model directory or run directory is required.', fix: 'Pass it as the first argument, e.g. runs/<run-id>.' } }),
  data: withOptions(FIELDS.data, { help: 'Dataset (as for train). Default: the run\'s own dataset when <model> is a run, else CIFAR-10 from the cache.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  split: OneOf(['validation', 'all'], { default: 'validation', placeholder: '<split>',
    help: 'validation: the held-out images (a run\'s own, as recorded in its data.json); all: every image of --data (a set kept apart for calibration).' }),
  limit: withOptions(FIELDS.limit, { help: 'Use only <n> images before splitting (as for train). Default: the run\'s --limit.' }),
  validationCount: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: 'Size of the validation split. Default: the run\'s, else 10% of the images.' }),
  splitMethod: Nullable(OneOf(SPLIT_METHODS), { placeholder: '<method>',
    help: 'How the validation split is chosen (as for train). Default: the run\'s, else auto (stratified for image folders, last for CIFAR-10).' }),
  splitSeed: Nullable(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }), { placeholder: '<n>', help: 'Seed of the stratified split. Default: the run\'s, else 0.' }),
  bins: CALIBRATION_BINS_FIELD,
  out: Nullable(Text(), { placeholder: '<dir>',
    help: 'Write a calibrated copy instead of changing the model in place: <dir>/model (weights copied unchanged) and the report in <dir>.' }),
  batchSize: withOptions(FIELDS.batchSize, { default: 256, help: 'Images per inference batch.' }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend (as for train).' }),
  workers: withOptions(FIELDS.workers, { help: 'Data loader threads (0 = main thread).' }),
});

export type CalibrateConfig = Static<typeof CALIBRATE_SCHEMA>;

/** Validates a calibrate config; `model` is required. */
export function resolveCalibrateConfig(input: unknown): CalibrateConfig {
  return validateConfig(CALIBRATE_SCHEMA, input, 'calibrate config');
}
