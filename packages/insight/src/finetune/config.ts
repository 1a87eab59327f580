// The one typed config of a fine-tuning run: `insight finetune` flags, --config files and `finetune(options)` all
// go through resolveFinetuneConfig, once. Defaults: Adam at 1e-3 with a cosine schedule, 10 epochs, batch 32,
// the base cut before its classifier, LoRA rank 4 (alpha = rank), adapter bottleneck 8, base lr × 0.1 under full.
import { ruleError } from '../errors';
import { validateConfig, type Schema } from '../run/config_schema';
import type { Augmentation, RunSettings } from '../train/config';
import { OPTIMIZER_NAMES, type OptimizerName } from '../train/optimizers';
import { FINETUNE_METHODS, type FinetuneMethod } from './methods';

export interface FinetuneConfig extends RunSettings {
  base: string;
  data: string | null;
  dataset: 'auto' | 'cifar10' | 'image-folder';
  classes: string | null;
  perClass: number | null;
  validationCount: number | null;
  method: FinetuneMethod;
  cutAt: string | null;
  rank: number;
  loraAlpha: number | null;
  loraTargets: string | null;
  merge: boolean;
  adapterBottleneck: number;
  adapterAfter: string | null;
  baseLrFactor: number;
  unfreezeEvery: number;
  l2sp: number;
  forgettingData: string | null;
  forgettingClasses: string | null;
  inputShape: string | null;
  normalization: 'base' | 'scale' | 'meanstd';
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  weightDecay: number;
  schedule: 'constant' | 'cosine';
  warmupEpochs: number | null;
  augment: Augmentation[];
  epochValidation: boolean;
}

/** Every key of FinetuneConfig: type, rule, default and help. Order = order in --help and the README. */
export const FINETUNE_SCHEMA: Schema = {
  base: { type: 'string', default: null, nullable: true, placeholder: '<model dir>',
    help: 'The model to fine-tune: an Insight run or model directory, or any TensorFlow.js layers model directory (required).' },
  data: { type: 'string', default: null, nullable: true, placeholder: '<path>',
    help: 'The new task: an image folder (<class>/<image>; subfolder names are the new classes) or a CIFAR-10 archive/folder. Default: CIFAR-10 from the cache.' },
  dataset: { type: 'enum', default: 'auto', values: ['auto', 'cifar10', 'image-folder'], placeholder: '<kind>', help: 'How to read --data (as for train).' },
  classes: { type: 'string', default: null, nullable: true, placeholder: '<list>',
    help: 'Keep only these classes, in this order, e.g. 5,6,7,8,9 (CIFAR-10 indices) or cat,dog (names). Default: all.' },
  perClass: { type: 'int', default: null, nullable: true, min: 1, placeholder: '<n>',
    help: 'Few-shot: train on the first <n> training images of each class. Default: all.' },
  validationCount: { type: 'int', default: null, nullable: true, min: 1, placeholder: '<n>',
    help: 'Held-out images: the last <n> records of the dataset, before --classes (image folders: the same share of each class). Default: 10%.' },
  method: { type: 'enum', default: 'full', values: FINETUNE_METHODS, placeholder: '<method>',
    help: 'full (all layers, base at lr x --base-lr-factor), head (linear probe), bn+head, adapter, lora.' },
  cutAt: { type: 'string', default: null, nullable: true, placeholder: '<layer>',
    help: 'Cut the base after this layer and attach the new head there. Default: the last layer before the classifier.' },
  rank: { type: 'int', default: 4, min: 1, placeholder: '<r>', help: 'lora: rank of the update B·A.' },
  loraAlpha: { type: 'number', default: null, nullable: true, min: 0, minExclusive: true, placeholder: '<a>',
    help: 'lora: the update is scaled by alpha/rank. Default: alpha = rank (scale 1).' },
  loraTargets: { type: 'string', default: null, nullable: true, placeholder: '<layers>',
    help: 'lora: comma-separated Dense/Conv2D layers to adapt. Default: every Dense and Conv2D layer up to the cut.' },
  merge: { type: 'bool', default: true, placeholder: '<bool>',
    help: 'lora: save model/ with the updates merged into the weights (a plain model); --no-merge keeps the LoRA layers.' },
  adapterBottleneck: { type: 'int', default: 8, min: 1, placeholder: '<n>', help: 'adapter: channels of the bottleneck.' },
  adapterAfter: { type: 'string', default: null, nullable: true, placeholder: '<layers>',
    help: 'adapter: comma-separated layers to put adapters after. Default: the end of every block of the base.' },
  baseLrFactor: { type: 'number', default: 0.1, min: 0, max: 1, minExclusive: true, placeholder: '<f>',
    help: 'full: the base trains at lr x <f>, the head at lr (discriminative learning rates).' },
  unfreezeEvery: { type: 'int', default: 0, min: 0, placeholder: '<n>',
    help: 'full: gradual unfreezing; the base starts frozen and one more block thaws from the top every <n> epochs (0 = off).' },
  l2sp: { type: 'number', default: 0, min: 0, placeholder: '<alpha>',
    help: 'full, bn+head: add alpha * ||w - w_pretrained||^2 over the base weights to the loss (L2-SP; 0 = off).' },
  forgettingData: { type: 'string', default: null, nullable: true, placeholder: '<path>',
    help: 'Base-task dataset for the forgetting report (its held-out images, as --validation-count). Default: --data when --forgetting-classes is given.' },
  forgettingClasses: { type: 'string', default: null, nullable: true, placeholder: '<list>',
    help: 'Classes of the forgetting data that are the base\'s classes, in the base\'s order, e.g. 0,1,2,3,4.' },
  inputShape: { type: 'string', default: null, nullable: true, placeholder: '<h,w,3>',
    help: 'Input shape of a base without Insight metadata whose input size is not fixed, e.g. 32,32,3.' },
  normalization: { type: 'enum', default: 'base', values: ['base', 'scale', 'meanstd'], placeholder: '<kind>',
    help: 'Preprocessing: base (the base model\'s own; scale for models without metadata), scale (x/255), meanstd (from the training images).' },
  epochs: { type: 'int', default: 10, min: 1, placeholder: '<n>', help: 'Epochs to train.' },
  batchSize: { type: 'int', default: 32, min: 1, placeholder: '<n>', help: 'Images per update.' },
  optimizer: { type: 'enum', default: 'adam', values: OPTIMIZER_NAMES, placeholder: '<name>', help: 'adam, adamw or sgd (momentum 0.9).' },
  lr: { type: 'number', default: 1e-3, min: 0, minExclusive: true, placeholder: '<rate>', help: 'Learning rate of the head and added layers (peak rate).' },
  weightDecay: { type: 'number', default: 0, min: 0, placeholder: '<wd>', help: 'Weight decay on kernels (as for train).' },
  schedule: { type: 'enum', default: 'cosine', values: ['constant', 'cosine'], placeholder: '<name>', help: 'Learning-rate schedule after the warmup: cosine decay to 0, or constant.' },
  warmupEpochs: { type: 'number', default: null, nullable: true, min: 0, placeholder: '<n>',
    help: 'Linear warmup in epochs. Default: 1 for full (protects the pretrained base from the new head\'s first gradients), else 0.' },
  augment: { type: 'list', default: [], values: ['crop', 'flip', 'cutout'], placeholder: '<list>', help: 'Training augmentations (as for train).' },
  epochValidation: { type: 'bool', default: true, placeholder: '<bool>',
    help: 'Evaluate the held-out images after every epoch (val_loss, val_accuracy; best checkpoint by val_loss); --no-epoch-validation only at the end.' },
  seed: { type: 'int', default: 0, min: 0, max: 2 ** 31 - 1, placeholder: '<n>', help: 'Seeds the new layers, data order and augmentation.' },
  topK: { type: 'int', default: 5, min: 1, placeholder: '<k>', help: 'The report\'s top-k accuracy (at most the number of classes).' },
  runsDir: { type: 'string', default: 'runs', placeholder: '<dir>', help: 'Where run directories are created.' },
  backend: { type: 'enum', default: 'auto', values: ['auto', 'torch', 'cpu'], placeholder: '<name>', help: 'Compute backend (as for train).' },
  workers: { type: 'int', default: null, nullable: true, min: 0, max: 64, placeholder: '<n>', help: 'Data loader threads (0 = main thread).' },
  progress: { type: 'enum', default: 'auto', values: ['auto', 'bar', 'log', 'none'], placeholder: '<kind>', help: 'Progress output (as for train).' },
};

/** Comma-separated list → trimmed non-empty items ('5, 6' → ['5', '6']). */
export function listOf(value: string | null): string[] {
  return value === null ? [] : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Validates a (partial) fine-tuning config and fills in the defaults; throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem. Example: `resolveFinetuneConfig({ base: 'runs/x', method: 'lora' })`.
 */
export function resolveFinetuneConfig(input: unknown = {}, source = 'fine-tuning config'): FinetuneConfig {
  const config = validateConfig<FinetuneConfig>(FINETUNE_SCHEMA, input, source);
  if (config.base === null || config.base === '') {
    throw ruleError('INSIGHT_E_CONFIG', 'Fine-tuning needs a base model.', { base: config.base },
      'Pass --base <model dir>: a run directory, its model/ directory, or a TensorFlow.js layers model directory.');
  }
  if (config.unfreezeEvery > 0 && config.method !== 'full') {
    throw ruleError('INSIGHT_E_CONFIG', 'Gradual unfreezing is a schedule of method full.', { method: config.method, unfreezeEvery: config.unfreezeEvery },
      'Pass --method full with --unfreeze-every, or drop --unfreeze-every.');
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
