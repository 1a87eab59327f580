// The one typed config of a training run. Its defaults are the reference recipe: seed-cnn on CIFAR-10, pixels
// scaled to [0, 1], Adam at 1e-3, batch 64, 10 epochs, validation on the last 5,000 training images.
// `insight train` flags, --config files and `train(config)` all go through resolveTrainConfig, once.
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { modelChoiceOf } from '../models/model_choice';
import { FIELDS } from '../run/config_fields';
import { flagOf, Nullable, OneOf, Text, validateConfig } from '../run/config_schema';
import { ADVERSARIAL_METHODS } from '../robust/adversarial/methods';
import { OPTIMIZER_NAMES } from './optimizers/names';
import { SCHEDULE_NAMES } from './schedules/names';
import { checkMixingConfig } from './mixing/settings';
import { MONITORS } from './state';

/** Every key of a training run's config: type, rule, default and help. Order = order in --help and the README. */
export const TRAIN_SCHEMA = Type.Object({
  data: FIELDS.data,
  dataset: FIELDS.dataset,
  imageSize: Type.Integer({ default: 32, minimum: 8, maximum: 512, placeholder: '<px>', help: 'Image-folder datasets: resize images to <px> x <px>.' }),
  limit: FIELDS.limit,
  validationCount: Nullable(Type.Integer({ minimum: 0 }), { placeholder: '<n>',
    help: 'Validate on <n> images held out per --split-method (0 = no validation). Default: 10% of the images, i.e. the last 5,000 of CIFAR-10\'s 50,000.' }),
  valData: FIELDS.valData,
  splitMethod: FIELDS.splitMethod,
  splitSeed: FIELDS.splitSeed,
  model: Text({ default: 'seed-cnn', placeholder: '<name|file>',
    help: 'Architecture from the zoo (seed-cnn, resnet), or your own: a .ts/.js module whose default export builds it, or a model.json (see Custom models).' }),
  depth: Type.Integer({ default: 20, minimum: 8, placeholder: '<n>', help: 'resnet: weighted layers, 6n+2 (8, 14, 20, 32, 44, 56, 110).' }),
  width: Type.Integer({ default: 16, minimum: 1, placeholder: '<n>', help: 'resnet: channels of the first stage (doubled at each of the next two).' }),
  dropout: Type.Number({ default: 0, minimum: 0, exclusiveMaximum: 1, placeholder: '<rate>', help: 'Dropout rate before the dense layers (0 = off, the reference).' }),
  normalization: OneOf(['scale', 'meanstd'], { default: 'scale', placeholder: '<kind>',
    help: 'scale: x/255 (the reference); meanstd: per-channel standardisation with the training split\'s mean and std.' }),
  augment: FIELDS.augment,
  cropPadding: Type.Integer({ default: 4, minimum: 1, placeholder: '<px>', help: 'crop augmentation: zero padding on each side before the random crop.' }),
  cutoutSize: Type.Integer({ default: 16, minimum: 1, placeholder: '<px>', help: 'cutout augmentation: side of the square erased at a random position.' }),
  epochs: FIELDS.epochs,
  batchSize: FIELDS.batchSize,
  gradAccumulation: Type.Integer({ default: 1, minimum: 1, placeholder: '<n>', help: 'Micro-batches per optimizer update (effective batch = batch size x n).' }),
  optimizer: OneOf(OPTIMIZER_NAMES, { default: 'adam', placeholder: '<name>', help: 'adam, adamw (decoupled weight decay) or sgd (momentum, optional Nesterov).' }),
  lr: Type.Number({ default: 1e-3, exclusiveMinimum: 0, placeholder: '<rate>', help: 'Learning rate (the peak rate for cosine and onecycle).' }),
  beta1: Type.Number({ default: 0.9, minimum: 0, exclusiveMaximum: 1, placeholder: '<b>', help: 'adam/adamw: first-moment decay.' }),
  beta2: Type.Number({ default: 0.999, minimum: 0, exclusiveMaximum: 1, placeholder: '<b>', help: 'adam/adamw: second-moment decay.' }),
  epsilon: Type.Number({ default: 1e-7, exclusiveMinimum: 0, placeholder: '<eps>', help: 'adam/adamw: epsilon (Keras default 1e-7).' }),
  momentum: Type.Number({ default: 0.9, minimum: 0, exclusiveMaximum: 1, placeholder: '<m>', help: 'sgd: momentum (0 = plain SGD).' }),
  nesterov: Type.Boolean({ default: false, placeholder: '<bool>', help: 'sgd: Nesterov momentum.' }),
  weightDecay: Type.Number({ default: 0, minimum: 0, placeholder: '<wd>',
    help: 'Weight decay on kernels (not biases/BatchNorm): L2 added to the gradient for adam and sgd, decoupled for adamw.' }),
  labelSmoothing: Type.Number({ default: 0, minimum: 0, exclusiveMaximum: 1, placeholder: '<s>', help: 'Label smoothing of the training loss.' }),
  mixup: Type.Number({ default: 0, minimum: 0, placeholder: '<alpha>',
    help: 'Mixup (Zhang et al. 2018): train on λ·x + (1-λ)·x\' of two images with the label mixed alike, λ ~ Beta(<alpha>, <alpha>), e.g. 0.2 (0 = off).' }),
  cutmix: Type.Number({ default: 0, minimum: 0, placeholder: '<alpha>',
    help: 'CutMix (Yun et al. 2019): paste a box of another image, of area 1-λ, λ ~ Beta(<alpha>, <alpha>), labels mixed by area, e.g. 1.0 (0 = off).' }),
  mixProb: Type.Number({ default: 1, minimum: 0, maximum: 1, placeholder: '<p>', help: '--mixup/--cutmix: probability that a batch is mixed.' }),
  mixSwitchProb: Type.Number({ default: 0.5, minimum: 0, maximum: 1, placeholder: '<p>',
    help: '--mixup with --cutmix: probability that a mixed batch uses CutMix rather than Mixup.' }),
  schedule: OneOf(SCHEDULE_NAMES, { default: 'constant', placeholder: '<name>',
    help: 'Learning-rate schedule per update: constant, step, cosine (with linear warmup), onecycle.' }),
  warmupEpochs: Type.Number({ default: 0, minimum: 0, placeholder: '<n>', help: 'cosine: linear warmup length in epochs (may be fractional).' }),
  minLr: Type.Number({ default: 0, minimum: 0, placeholder: '<rate>', help: 'cosine: final learning rate; reduce-on-plateau: lower bound.' }),
  stepEpochs: Type.Integer({ default: 5, minimum: 1, placeholder: '<n>', help: 'step: epochs between learning-rate drops.' }),
  gamma: Type.Number({ default: 0.1, exclusiveMinimum: 0, maximum: 1, placeholder: '<f>', help: 'step: factor of each drop.' }),
  monitor: OneOf(MONITORS, { default: 'val_loss', placeholder: '<metric>',
    help: 'Metric for the best checkpoint, early stopping and reduce-on-plateau (val_robust_accuracy: with --adversarial and its guard).' }),
  earlyStoppingPatience: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>', help: 'Stop after <n> epochs without improvement of --monitor (0 = off).' }),
  reducePatience: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>', help: 'Reduce the learning rate after <n> epochs without improvement (0 = off).' }),
  reduceFactor: Type.Number({ default: 0.1, exclusiveMinimum: 0, exclusiveMaximum: 1, placeholder: '<f>', help: 'Reduce-on-plateau: multiply the learning rate by <f>.' }),
  adversarial: OneOf(ADVERSARIAL_METHODS, { default: 'none', placeholder: '<method>',
    help: 'Adversarial training: fgsm-rs (FGSM from a random start, Wong et al. 2020), pgd (Madry et al. 2018), none. See Adversarial training.' }),
  eps: Type.Number({ default: 8 / 255, exclusiveMinimum: 0, maximum: 1, placeholder: '<eps>',
    help: '--adversarial: L-inf radius of the perturbations in pixel units on the [0, 1] scale; a fraction such as 8/255 is read as one.' }),
  advAlpha: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1 }), { placeholder: '<alpha>',
    help: '--adversarial: step size in pixel units. Default: 1.25 x eps for fgsm-rs, 2.5 x eps / --adv-steps for pgd.' }),
  advSteps: Type.Integer({ default: 7, minimum: 1, maximum: 100, placeholder: '<n>', help: '--adversarial pgd: attack steps per training batch (Madry et al.\'s 7).' }),
  advGuardImages: Type.Integer({ default: 256, minimum: 0, placeholder: '<n>',
    help: '--adversarial: catastrophic-overfitting guard, PGD robust accuracy (val_robust_accuracy) on the first <n> validation images after every epoch (0 = off).' }),
  advGuardSteps: Type.Integer({ default: 10, minimum: 1, maximum: 100, placeholder: '<n>', help: '--adversarial guard: PGD steps of the check (L-inf at --eps, step 2.5 x eps / <n>, random start).' }),
  advGuardDrop: Type.Number({ default: 0.2, exclusiveMinimum: 0, maximum: 1, placeholder: '<f>',
    help: '--adversarial guard: a collapse is val_robust_accuracy more than <f> below its best (Wong et al.\'s 0.2) ...' }),
  advGuardRatio: Type.Number({ default: 0.5, minimum: 0, exclusiveMaximum: 1, placeholder: '<f>',
    help: '--adversarial guard: ... or below <f> x its best (0 = only --adv-guard-drop); the run then rolls back to the best robust weights and stops.' }),
  seed: FIELDS.seed,
  topK: FIELDS.topK,
  runsDir: FIELDS.runsDir,
  name: FIELDS.name,
  backend: FIELDS.backend,
  workers: FIELDS.workers,
  logEverySteps: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>', help: 'Also log metrics (metrics.jsonl, log lines) every <n> optimizer updates (0 = per epoch only).' }),
  tensorboard: Type.Boolean({ default: true, placeholder: '<bool>',
    help: 'Write a TensorBoard event file into the run directory (scalars, weight/gradient histograms, system metrics, sample predictions); --no-tensorboard turns it off.' }),
  progress: FIELDS.progress,
  progressEverySeconds: FIELDS.progressEverySeconds,
  checkpointEverySteps: FIELDS.checkpointEverySteps,
  keepSnapshots: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>',
    help: 'Also keep the model of each of the last <n> epochs in snapshots/epoch-<e>/, for snapshot ensembles (insight ensemble --snapshots; 0 = none).' }),
  adaptiveThreads: FIELDS.adaptiveThreads,
  precision: FIELDS.precision,
});

/** The one typed config of a training run (optimizer hyper-parameters included: it satisfies OptimizerSettings). */
export type TrainConfig = Static<typeof TRAIN_SCHEMA>;

/** The keys `--resume` may change: how a run executes, never what it computes. */
export const RESUME_OVERRIDABLE = ['backend', 'workers', 'progress', 'logEverySteps', 'progressEverySeconds', 'checkpointEverySteps', 'keepSnapshots'] as const satisfies readonly (keyof TrainConfig)[];

/**
 * Validates a (partial) training config and fills in the defaults. Throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem.
 * Example: `resolveTrainConfig({ epochs: 2, limit: 2000 })`.
 */
export function resolveTrainConfig(input: unknown = {}, source = 'training config'): TrainConfig {
  const config = validateConfig(TRAIN_SCHEMA, input, source);
  modelChoiceOf(config.model); // a zoo name or a model file (throws otherwise)
  if (config.model === 'resnet' && (config.depth - 2) % 6 !== 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'resnet depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110 ...).', { depth: config.depth },
      'Pass e.g. --depth 20.');
  }
  if (config.validationCount === 0 && config.monitor.startsWith('val_')) {
    throw ruleError('INSIGHT_E_CONFIG', 'Monitoring a validation metric needs a validation split.',
      { validationCount: 0, monitor: config.monitor }, 'Pass --monitor loss (or accuracy), or a validationCount > 0.');
  }
  if (config.limit !== null && config.validationCount !== null && config.validationCount >= config.limit) {
    throw ruleError('INSIGHT_E_CONFIG', 'validationCount must leave training images within --limit.',
      { validationCount: config.validationCount, limit: config.limit }, 'Lower --validation-count or raise --limit.');
  }
  checkAdversarial(config);
  checkRobustMonitor('monitor', config.monitor, config);
  checkMixingConfig(config);
  return config;
}

/**
 * val_robust_accuracy is logged only by adversarial training's guard (a PGD check on validation images after every
 * epoch): monitoring or tuning it needs --adversarial with --adv-guard-images > 0. `key`: the config key naming it.
 */
export function checkRobustMonitor(key: 'monitor' | 'metric', metric: string, config: Pick<TrainConfig, 'adversarial' | 'advGuardImages'>): void {
  if (metric !== 'val_robust_accuracy' || (config.adversarial !== 'none' && config.advGuardImages > 0)) return;
  const instead = `or ${key === 'monitor' ? 'monitor' : 'tune'} val_accuracy.`;
  throw ruleError('INSIGHT_E_CONFIG', 'val_robust_accuracy is measured by adversarial training\'s guard after every epoch: it needs --adversarial with --adv-guard-images > 0.',
    { [key]: metric, adversarial: config.adversarial, advGuardImages: config.advGuardImages },
    config.adversarial === 'none' ? `Add --adversarial fgsm-rs (or pgd), ${instead}` : `Give the guard images (e.g. --adv-guard-images 256), ${instead}`);
}

/** The keys only adversarial training reads (--adv-steps: only its pgd). */
const ADVERSARIAL_KEYS = ['eps', 'advAlpha', 'advSteps', 'advGuardImages', 'advGuardSteps', 'advGuardDrop', 'advGuardRatio'] as const;

/**
 * Adversarial settings need --adversarial (as Mixup's need --mixup: a setting that would do nothing is refused), and
 * its guard needs validation images (Mixup/CutMix are refused with it by checkMixingConfig).
 */
function checkAdversarial(config: TrainConfig): void {
  const given = (key: (typeof ADVERSARIAL_KEYS)[number]) => config[key] !== (TRAIN_SCHEMA.properties[key] as { default: unknown }).default;
  if (config.adversarial === 'none') {
    const orphan = ADVERSARIAL_KEYS.find(given);
    if (orphan === undefined) return;
    throw ruleError('INSIGHT_E_CONFIG', `${flagOf(orphan)} is a setting of adversarial training: it needs --adversarial.`,
      { adversarial: 'none', [orphan]: config[orphan] }, `Add --adversarial fgsm-rs or --adversarial pgd, or leave ${flagOf(orphan)} out.`);
  }
  if (config.adversarial === 'fgsm-rs' && given('advSteps')) {
    throw ruleError('INSIGHT_E_CONFIG', '--adv-steps is the step count of --adversarial pgd; fgsm-rs is one step.',
      { adversarial: 'fgsm-rs', advSteps: config.advSteps }, 'Use --adversarial pgd, or leave --adv-steps out.');
  }
  if (config.validationCount === 0 && config.valData === null && config.advGuardImages > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Adversarial training\'s catastrophic-overfitting guard checks robust accuracy on validation images after every epoch.',
      { adversarial: config.adversarial, validationCount: 0, advGuardImages: config.advGuardImages },
      'Keep a validation split (--validation-count > 0 or --val-data), or turn the guard off with --adv-guard-images 0.');
  }
}

/** The reference recipe: every key at its default (seed-cnn on CIFAR-10, Adam 1e-3, batch 64, 10 epochs). Frozen. */
export const TRAIN_DEFAULTS: TrainConfig = deepFreeze(resolveTrainConfig({}, 'default training config'));

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) Object.freeze(inner);
  return Object.freeze(value);
}
