// The one typed config of a fine-tuning run: `insight finetune` flags, --config files and `finetune(options)` all
// go through resolveFinetuneConfig, once. Defaults (chosen to work on a few dozen images a class, see budget.ts):
// Adam at 1e-2 for the new weights with a cosine schedule, a zero-initialised head, a step budget that scales with
// the data (at least 500 updates and 3 epochs), batch 32, the base cut before its classifier, under full the head
// alone first and then the base at lr × 0.1, LoRA rank 4 (alpha = rank), adapter bottleneck 8, a 4-pixel prompt frame.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { FIELDS, GIVEN_MODEL_RUN_FIELDS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';
import { TRAIN_SCHEMA } from '../train/config';
import { FINETUNE_METHODS, HEAD_INITS } from './method_names';

const TRAIN = TRAIN_SCHEMA.properties;

/** Every key of a fine-tuning run's config: type, rule, default and help. Order = order in --help and the README. */
export const FINETUNE_SCHEMA = Type.Object({
  base: Text({ placeholder: '<model dir>',
    help: 'The model to fine-tune: an Insight run or model directory, or any TensorFlow.js layers model directory (required).',
    missing: { rule: 'Fine-tuning needs a base model.',
      fix: 'Pass --base <model dir>: a run directory, its model/ directory, or a TensorFlow.js layers model directory.' } }),
  data: withOptions(FIELDS.data, {
    help: 'The new task: an image folder (<class>/<image>; subfolder names are the new classes) or a CIFAR-10 archive/folder. Default: CIFAR-10 from the cache.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  classes: Nullable(Text(), { placeholder: '<list>',
    help: 'Keep only these classes, in this order, e.g. 5,6,7,8,9 (CIFAR-10 indices) or cat,dog (names). Default: all.' }),
  perClass: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>',
    help: 'Few-shot: train on the first <n> training images of each class. Default: all.' }),
  validationCount: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>',
    help: 'Held-out images: <n> images of the dataset held out per --split-method, before --classes. Default: 10%.' }),
  valData: withOptions(FIELDS.valData, { help: 'Held-out images from a separate set (image folder or CIFAR-10, classes matched by name, then --classes); every --data image then trains.' }),
  splitMethod: withOptions(FIELDS.splitMethod, { help: 'Held-out split (as for train): stratified for image folders, CIFAR-10\'s last records (auto).' }),
  splitSeed: withOptions(FIELDS.splitSeed, { help: 'Seed of the stratified held-out split (as for train), apart from --seed.' }),
  method: OneOf(FINETUNE_METHODS, { default: 'full', placeholder: '<method>',
    help: 'full (all layers, base at lr x --base-lr-factor), head (linear probe), bn+head, adapter, lora, prompt (visual prompt on the input).' }),
  cutAt: Nullable(Text(), { placeholder: '<layer>',
    help: 'Cut the base after this layer and attach the new head there. Default: the last layer before the classifier.' }),
  headInit: OneOf(HEAD_INITS, { default: 'zeros', placeholder: '<init>',
    help: 'Initial weights of the new head: zeros (every logit starts at 0, loss at ln(classes)) or glorot (random).' }),
  headFromBase: Type.Boolean({ default: true, placeholder: '<bool>',
    help: 'A new class with the name of a base class starts from the base classifier\'s weights for it (default cut only); --no-head-from-base starts every class from --head-init.' }),
  rank: Type.Integer({ default: 4, minimum: 1, placeholder: '<r>', help: 'lora: rank of the update B·A.' }),
  loraAlpha: Nullable(Type.Number({ exclusiveMinimum: 0 }), { placeholder: '<a>',
    help: 'lora: the update is scaled by alpha/rank. Default: alpha = rank (scale 1).' }),
  loraTargets: Nullable(Text(), { placeholder: '<layers>',
    help: 'lora: comma-separated Dense/Conv2D layers to adapt. Default: every Dense and Conv2D layer up to the cut.' }),
  merge: Type.Boolean({ default: true, placeholder: '<bool>',
    help: 'lora: save model/ with the updates merged into the weights (a plain model); --no-merge keeps the LoRA layers.' }),
  adapterBottleneck: Type.Integer({ default: 8, minimum: 1, placeholder: '<n>', help: 'adapter: channels of the bottleneck.' }),
  adapterAfter: Nullable(Text(), { placeholder: '<layers>',
    help: 'adapter: comma-separated layers to put adapters after. Default: the end of every block of the base.' }),
  promptWidth: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<px>',
    help: 'prompt: frame width of the padding prompt in pixels; at least half the shorter side = a prompt over the whole image. Default: an eighth of the shorter side (4 on 32x32).' }),
  baseLrFactor: Type.Number({ default: 0.1, exclusiveMinimum: 0, maximum: 1, placeholder: '<f>',
    help: 'full, head-from-base: pretrained weights train at lr x <f>, new ones at lr (discriminative learning rates): the base under full, and a head taken whole from the base\'s classifier.' }),
  unfreezeEvery: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>',
    help: 'full: gradual unfreezing; the base starts frozen and one more block thaws from the top every <n> epochs (0 = off).' }),
  headEpochs: Nullable(Type.Integer({ minimum: 0 }), { placeholder: '<n>',
    help: 'full: train the head alone for the first <n> epochs, then the whole model (fastai\'s fine_tune). Default: a fifth of the epochs (at least 1); 0 = off.' }),
  l2sp: Type.Number({ default: 0, minimum: 0, placeholder: '<alpha>',
    help: 'full, bn+head: add alpha * ||w - w_pretrained||^2 over the base weights to the loss (L2-SP; 0 = off).' }),
  forgettingData: Nullable(Text(), { placeholder: '<path>',
    help: 'Base-task dataset for the forgetting report (its held-out images, as --validation-count). Default: --data when --forgetting-classes is given.' }),
  forgettingClasses: Nullable(Text(), { placeholder: '<list>',
    help: 'Classes of the forgetting data that are the base\'s classes, in the base\'s order, e.g. 0,1,2,3,4.' }),
  inputShape: Nullable(Text(), { placeholder: '<h,w,3>',
    help: 'Input shape of a base without Insight metadata whose input size is not fixed, e.g. 32,32,3.' }),
  normalization: OneOf(['base', 'scale', 'meanstd'], { default: 'base', placeholder: '<kind>',
    help: 'Preprocessing: base (the base model\'s own; scale for models without metadata), scale (x/255), meanstd (from the training images).' }),
  epochs: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>',
    help: 'Epochs to train. Default: a budget that scales with the data: at least 500 updates and 3 epochs, at most 200 epochs.' }),
  batchSize: withOptions(FIELDS.batchSize, { default: 32, help: 'Images per update.' }),
  optimizer: withOptions(TRAIN.optimizer, { help: 'adam, adamw or sgd (momentum 0.9).' }),
  lr: withOptions(TRAIN.lr, { default: 0.01, help: 'Learning rate of the head and added layers (peak rate); the base trains at lr x --base-lr-factor.' }),
  weightDecay: withOptions(TRAIN.weightDecay, { help: 'Weight decay on kernels (as for train).' }),
  schedule: OneOf(['constant', 'cosine'], { default: 'cosine', placeholder: '<name>', help: 'Learning-rate schedule after the warmup: cosine decay to 0, or constant.' }),
  warmupEpochs: Nullable(Type.Number({ minimum: 0 }), { placeholder: '<n>',
    help: 'Linear warmup in epochs (under full, after the head-alone epochs). Default: full, a tenth of the epochs after the head-alone ones; other methods 0.' }),
  augment: withOptions(FIELDS.augment, { help: 'Training augmentations (as for train).' }),
  epochValidation: Type.Boolean({ default: true, placeholder: '<bool>',
    help: 'Evaluate the held-out images after every epoch (val_loss, val_accuracy; best checkpoint by val_loss); --no-epoch-validation only at the end.' }),
  seed: withOptions(FIELDS.seed, { help: 'Seeds the new layers, data order and augmentation.' }),
  ...GIVEN_MODEL_RUN_FIELDS,
});

/** The one typed config of a fine-tuning run. */
export type FinetuneConfig = Static<typeof FINETUNE_SCHEMA>;

/** Comma-separated list → trimmed non-empty items ('5, 6' → ['5', '6']). */
export function listOf(value: string | null): string[] {
  return value === null ? [] : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Validates a (partial) fine-tuning config and fills in the defaults; throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem. Example: `resolveFinetuneConfig({ base: 'runs/x', method: 'lora' })`.
 */
export function resolveFinetuneConfig(input: unknown = {}, source = 'fine-tuning config'): FinetuneConfig {
  const config = validateConfig(FINETUNE_SCHEMA, input, source);
  if (config.unfreezeEvery > 0 && config.method !== 'full') {
    throw ruleError('INSIGHT_E_CONFIG', 'Gradual unfreezing is a schedule of method full.', { method: config.method, unfreezeEvery: config.unfreezeEvery },
      'Pass --method full with --unfreeze-every, or drop --unfreeze-every.');
  }
  if (config.headEpochs !== null && config.headEpochs > 0 && (config.method !== 'full' || config.unfreezeEvery > 0)) {
    throw ruleError('INSIGHT_E_CONFIG', 'Training the head alone first is a schedule of method full without gradual unfreezing (which starts with the head alone itself).',
      { method: config.method, headEpochs: config.headEpochs, unfreezeEvery: config.unfreezeEvery }, 'Pass --method full without --unfreeze-every, or drop --head-epochs.');
  }
  if (config.promptWidth !== null && config.method !== 'prompt') {
    throw ruleError('INSIGHT_E_CONFIG', 'promptWidth sets the visual prompt of method prompt.', { method: config.method, promptWidth: config.promptWidth },
      'Pass --method prompt, or drop --prompt-width.');
  }
  if (config.l2sp > 0 && config.method !== 'full' && config.method !== 'bn+head') {
    throw ruleError('INSIGHT_E_CONFIG', 'L2-SP pulls trained base weights towards their pretrained values; it needs a method that trains base weights (full or bn+head).',
      { method: config.method, l2sp: config.l2sp }, 'Use --method full or bn+head, or drop --l2sp.');
  }
  if (config.inputShape !== null) {
    const dims = listOf(config.inputShape).map(Number);
    if (dims.length !== 3 || dims[2] !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw ruleError('INSIGHT_E_CONFIG', 'inputShape must be <height>,<width>,3 with positive integers.', { inputShape: config.inputShape },
        'Pass e.g. --input-shape 32,32,3.');
    }
  }
  if (config.forgettingData !== null && config.forgettingClasses === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'The forgetting report needs the base\'s classes in the forgetting data.',
      { forgettingData: config.forgettingData, forgettingClasses: null }, 'Pass --forgetting-classes, e.g. 0,1,2,3,4 (in the base\'s class order).');
  }
  return config;
}
