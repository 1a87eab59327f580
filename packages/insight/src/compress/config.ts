// The one typed config of `insight compress`: flags, --config files and `compress(config)` all go through
// resolveCompressConfig, once. Defaults: 75% sparsity by magnitude over all prunable kernels at once (global scope,
// as torch.nn.utils.prune.global_unstructured; the first and the last kernel layer are kept dense, see
// prune/prunable.ts), reached over 2 fine-tuning epochs on TF-MOT's polynomial schedule with Adam at 1e-4 (a tenth
// of train's rate: the model is trained already), float32 weights. --epochs 0 prunes once and writes a model
// directory (--out) without data; with epochs it writes a run, its data and split those of the source run by default.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { FIELDS, GIVEN_MODEL_RUN_FIELDS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';
import { TRAIN_SCHEMA } from '../train/config';
import { WEIGHT_FORMATS } from './storage/weight_formats';

const TRAIN = TRAIN_SCHEMA.properties;

/** Every key of a compression config: type, rule, default and help. Order = order in --help and the README. */
export const COMPRESS_SCHEMA = Type.Object({
  model: Text({ noFlag: true, placeholder: '<run|model>', help: 'The model to compress: a completed run directory or a model directory.',
    missing: { rule: 'compress needs the model to compress.', fix: 'Pass it as the first argument, e.g. `insight compress runs/<run-id>`.' } }),
  sparsity: Type.Number({ default: 0.75, minimum: 0, exclusiveMaximum: 1, placeholder: '<s>',
    help: 'Share of the prunable kernels\' weights set to zero (unstructured), or of each prunable convolution\'s filters removed (--structured).' }),
  pruneScope: OneOf(['global', 'layer'], { default: 'global', placeholder: '<scope>',
    help: 'Unstructured: global, one magnitude threshold over every prunable kernel; layer, each kernel pruned to --sparsity on its own. (--structured prunes each convolution to --sparsity.)' }),
  structured: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Remove whole convolution filters (lowest L1 norm times the BatchNorm scale) and build a smaller model; only convolutions whose channels do not reach an Add or Concatenate.' }),
  skipLayers: Nullable(Text(), { placeholder: '<list>',
    help: 'Kernel layers to keep dense, comma-separated, or none. Default: the first and the last kernel layer (input convolution, classifier).' }),
  schedule: Nullable(OneOf(['polynomial', 'one-shot']), { placeholder: '<name>',
    help: 'How sparsity rises. polynomial, TF-MOT\'s PolynomialDecay from 0 to --sparsity over the first 3/4 of the fine-tuning updates; one-shot, prune at the start, then fine-tune with the masks. Default: polynomial with --epochs, one-shot without.' }),
  pruneFrequency: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>',
    help: 'polynomial: recompute the masks every <n> updates. Default: about 10 pruning steps (at most every 100 updates, TF-MOT\'s default).' }),
  epochs: Type.Integer({ default: 2, minimum: 0, placeholder: '<n>',
    help: 'Fine-tuning epochs (a run is written); 0 = prune only (a model directory is written to --out, no data needed).' }),
  qatEpochs: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>',
    help: 'Quantisation-aware training epochs after the fine-tuning (int8 fake quantisation, straight-through gradients; pruned weights stay 0); the activation ranges go into report/compression.json for the int8 export. 0 = off.' }),
  weights: OneOf(WEIGHT_FORMATS, { default: 'float32', placeholder: '<format>',
    help: 'Weight storage of the compressed model: float32, float16 or uint8 (tfjs quantized manifests, plain tf.loadLayersModel reads them); sparse, sparse-float16 or sparse-uint8 (zeros left out, bitmask or CSR per tensor, the kept values as float32, float16 or uint8; every Insight command reads them; plain tfjs does not).' }),
  out: Nullable(Text(), { placeholder: '<dir>', help: 'Where the compressed model directory goes with --epochs 0 (required then).' }),
  data: withOptions(FIELDS.data, { help: 'Fine-tuning data (as for train). Default: the source run\'s data, else CIFAR-10 from the cache.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  limit: withOptions(FIELDS.limit, { help: 'Use only <n> images before splitting (as for train). Default: the source run\'s.' }),
  validationCount: withOptions(TRAIN.validationCount, { help: 'Validation images (as for train). Default: the source run\'s, else 10%.' }),
  valData: withOptions(FIELDS.valData, { help: 'Validation images from a separate set (as for train). Default: the source run\'s.' }),
  splitMethod: withOptions(FIELDS.splitMethod, { help: 'Validation split (as for train). Default: the source run\'s.' }),
  splitSeed: withOptions(FIELDS.splitSeed, { help: 'Seed of the stratified split (as for train). Default: the source run\'s.' }),
  augment: withOptions(FIELDS.augment, { help: 'Fine-tuning augmentations (as for train).' }),
  batchSize: withOptions(FIELDS.batchSize, { help: 'Images per update.' }),
  optimizer: withOptions(TRAIN.optimizer, { help: 'adam, adamw or sgd (momentum 0.9).' }),
  lr: withOptions(TRAIN.lr, { default: 1e-4, help: 'Fine-tuning learning rate (constant).' }),
  seed: withOptions(FIELDS.seed, { help: 'Seeds data order and augmentation.' }),
  ...GIVEN_MODEL_RUN_FIELDS,
});

/** The one typed config of a compression. */
export type CompressConfig = Static<typeof COMPRESS_SCHEMA>;

/** The data keys a compression takes from its source run when not given. */
export const DATA_KEYS = ['data', 'dataset', 'limit', 'validationCount', 'valData', 'splitMethod', 'splitSeed'] as const satisfies readonly (keyof CompressConfig)[];

/** --skip-layers as a list: null = the default (first and last kernel layer), 'none' = []. */
export function skipListOf(skipLayers: string | null): string[] | null {
  if (skipLayers === null) return null;
  if (skipLayers.trim() === 'none') return [];
  return skipLayers.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The pruning schedule a config asks for: polynomial with fine-tuning, one-shot without. */
export function scheduleOf(config: CompressConfig): 'polynomial' | 'one-shot' {
  return config.schedule ?? (config.epochs > 0 ? 'polynomial' : 'one-shot');
}

/**
 * Validates a (partial) compression config and fills in the defaults; throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem. Example: `resolveCompressConfig({ model: 'runs/x', sparsity: 0.9 })`.
 */
export function resolveCompressConfig(input: unknown = {}, source = 'compression config'): CompressConfig {
  const config = validateConfig(COMPRESS_SCHEMA, input, source);
  if (config.epochs === 0 && config.schedule === 'polynomial') {
    throw ruleError('INSIGHT_E_CONFIG', 'The polynomial schedule prunes gradually during fine-tuning; it needs --epochs > 0.',
      { schedule: config.schedule, epochs: 0 }, 'Pass --epochs <n> (e.g. 2), or --schedule one-shot.');
  }
  if (config.structured && (config.schedule === 'polynomial' || config.pruneFrequency !== null)) {
    throw ruleError('INSIGHT_E_CONFIG', 'Structured pruning removes the filters once, before fine-tuning; it has no schedule.',
      { structured: true, schedule: config.schedule, pruneFrequency: config.pruneFrequency }, 'Drop --schedule and --prune-frequency, or drop --structured.');
  }
  if (config.epochs === 0 && config.out === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'Compression without fine-tuning writes a model directory; it needs --out.',
      { epochs: 0, out: null }, 'Pass --out <dir>, or --epochs <n> to fine-tune into a run.');
  }
  if (config.epochs === 0 && config.qatEpochs > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Quantisation-aware training follows the fine-tuning in a run; it needs --epochs > 0.',
      { epochs: 0, qatEpochs: config.qatEpochs }, 'Pass --epochs <n> (at least 1), or drop --qat-epochs.');
  }
  if (config.epochs > 0 && config.out !== null) {
    throw ruleError('INSIGHT_E_CONFIG', 'With fine-tuning the compressed model goes into the run directory (model/ and model_compressed/), not --out.',
      { epochs: config.epochs, out: config.out }, 'Drop --out (pass --runs-dir to choose where the run goes), or pass --epochs 0.');
  }
  return config;
}
