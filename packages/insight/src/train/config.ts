// The one typed config of a training run. Its defaults are the reference recipe: seed-cnn on CIFAR-10, pixels
// scaled to [0, 1], Adam at 1e-3, batch 64, 10 epochs, validation on the last 5,000 training images.
// `insight train` flags, --config files and `train(config)` all go through resolveTrainConfig, once.
import { ruleError } from '../errors';
import { MODEL_NAMES } from '../models/registry';
import { validateConfig, type Schema } from '../run/config_schema';
import { OPTIMIZER_NAMES, type OptimizerName, type OptimizerSettings } from './optimizers';
import { SCHEDULE_NAMES, type ScheduleName } from './schedules';
import { MONITORS, type MonitorName } from './state';

export const AUGMENTATIONS = ['crop', 'flip', 'cutout'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** How a run executes and reports, shared by `train` and `finetune` configs. */
export interface RunSettings {
  seed: number;
  topK: number;
  runsDir: string;
  backend: 'auto' | 'torch' | 'cpu';
  workers: number | null;
  progress: 'auto' | 'bar' | 'log' | 'none';
}

/** Optimizer hyper-parameters (beta1, beta2, epsilon, momentum, nesterov, weightDecay) come from OptimizerSettings. */
export interface TrainConfig extends OptimizerSettings, RunSettings {
  data: string | null;
  dataset: 'auto' | 'cifar10' | 'image-folder';
  imageSize: number;
  limit: number | null;
  validationCount: number | null;
  model: string;
  depth: number;
  width: number;
  dropout: number;
  normalization: 'scale' | 'meanstd';
  augment: Augmentation[];
  cropPadding: number;
  cutoutSize: number;
  epochs: number;
  batchSize: number;
  gradAccumulation: number;
  optimizer: OptimizerName;
  lr: number;
  labelSmoothing: number;
  schedule: ScheduleName;
  warmupEpochs: number;
  minLr: number;
  stepEpochs: number;
  gamma: number;
  monitor: MonitorName;
  earlyStoppingPatience: number;
  reducePatience: number;
  reduceFactor: number;
  logEverySteps: number;
  tensorboard: boolean;
}

/** Every key of TrainConfig: type, rule, default and help. Order = order in --help and the README. */
export const TRAIN_SCHEMA: Schema = {
  data: { type: 'string', default: null, nullable: true, placeholder: '<path>',
    help: 'Dataset: a CIFAR-10 binary archive (.tar.gz) or folder, or an image folder (<class>/<image>). Default: CIFAR-10 from the cache ($INSIGHT_HOME/datasets or ~/.insight/datasets).' },
  dataset: { type: 'enum', default: 'auto', values: ['auto', 'cifar10', 'image-folder'], placeholder: '<kind>',
    help: 'How to read --data; auto: an archive or a folder with data_batch_*.bin is CIFAR-10, any other folder an image folder.' },
  imageSize: { type: 'int', default: 32, min: 8, max: 512, placeholder: '<px>', help: 'Image-folder datasets: resize images to <px> x <px>.' },
  limit: { type: 'int', default: null, nullable: true, min: 2, placeholder: '<n>', help: 'Use only the first <n> images of the dataset (quick runs).' },
  validationCount: { type: 'int', default: null, nullable: true, min: 0, placeholder: '<n>',
    help: 'Validate on the last <n> images (0 = no validation). Default: 10% of the images, i.e. the last 5,000 of CIFAR-10\'s 50,000.' },
  model: { type: 'enum', default: 'seed-cnn', values: MODEL_NAMES, placeholder: '<name>', help: 'Architecture from the zoo.' },
  depth: { type: 'int', default: 20, min: 8, placeholder: '<n>', help: 'resnet: weighted layers, 6n+2 (8, 14, 20, 32, 44, 56, 110).' },
  width: { type: 'int', default: 16, min: 1, placeholder: '<n>', help: 'resnet: channels of the first stage (doubled at each of the next two).' },
  dropout: { type: 'number', default: 0, min: 0, max: 1, maxExclusive: true, placeholder: '<rate>', help: 'Dropout rate before the dense layers (0 = off, the reference).' },
  normalization: { type: 'enum', default: 'scale', values: ['scale', 'meanstd'], placeholder: '<kind>',
    help: 'scale: x/255 (the reference); meanstd: per-channel standardisation with the training split\'s mean and std.' },
  augment: { type: 'list', default: [], values: ['crop', 'flip', 'cutout'], placeholder: '<list>',
    help: 'Training augmentations, comma-separated: crop (random crop after padding), flip (horizontal), cutout; none = off (the reference).' },
  cropPadding: { type: 'int', default: 4, min: 1, placeholder: '<px>', help: 'crop augmentation: zero padding on each side before the random crop.' },
  cutoutSize: { type: 'int', default: 16, min: 1, placeholder: '<px>', help: 'cutout augmentation: side of the square erased at a random position.' },
  epochs: { type: 'int', default: 10, min: 1, placeholder: '<n>', help: 'Epochs to train.' },
  batchSize: { type: 'int', default: 64, min: 1, placeholder: '<n>', help: 'Images per forward/backward pass (per micro-batch with --grad-accumulation).' },
  gradAccumulation: { type: 'int', default: 1, min: 1, placeholder: '<n>', help: 'Micro-batches per optimizer update (effective batch = batch size x n).' },
  optimizer: { type: 'enum', default: 'adam', values: OPTIMIZER_NAMES, placeholder: '<name>', help: 'adam, adamw (decoupled weight decay) or sgd (momentum, optional Nesterov).' },
  lr: { type: 'number', default: 1e-3, min: 0, minExclusive: true, placeholder: '<rate>', help: 'Learning rate (the peak rate for cosine and onecycle).' },
  beta1: { type: 'number', default: 0.9, min: 0, max: 1, maxExclusive: true, placeholder: '<b>', help: 'adam/adamw: first-moment decay.' },
  beta2: { type: 'number', default: 0.999, min: 0, max: 1, maxExclusive: true, placeholder: '<b>', help: 'adam/adamw: second-moment decay.' },
  epsilon: { type: 'number', default: 1e-7, min: 0, minExclusive: true, placeholder: '<eps>', help: 'adam/adamw: epsilon (Keras default 1e-7).' },
  momentum: { type: 'number', default: 0.9, min: 0, max: 1, maxExclusive: true, placeholder: '<m>', help: 'sgd: momentum (0 = plain SGD).' },
  nesterov: { type: 'bool', default: false, placeholder: '<bool>', help: 'sgd: Nesterov momentum.' },
  weightDecay: { type: 'number', default: 0, min: 0, placeholder: '<wd>',
    help: 'Weight decay on kernels (not biases/BatchNorm): L2 added to the gradient for adam and sgd, decoupled for adamw.' },
  labelSmoothing: { type: 'number', default: 0, min: 0, max: 1, maxExclusive: true, placeholder: '<s>', help: 'Label smoothing of the training loss.' },
  schedule: { type: 'enum', default: 'constant', values: SCHEDULE_NAMES, placeholder: '<name>',
    help: 'Learning-rate schedule per update: constant, step, cosine (with linear warmup), onecycle.' },
  warmupEpochs: { type: 'number', default: 0, min: 0, placeholder: '<n>', help: 'cosine: linear warmup length in epochs (may be fractional).' },
  minLr: { type: 'number', default: 0, min: 0, placeholder: '<rate>', help: 'cosine: final learning rate; reduce-on-plateau: lower bound.' },
  stepEpochs: { type: 'int', default: 5, min: 1, placeholder: '<n>', help: 'step: epochs between learning-rate drops.' },
  gamma: { type: 'number', default: 0.1, min: 0, max: 1, minExclusive: true, placeholder: '<f>', help: 'step: factor of each drop.' },
  monitor: { type: 'enum', default: 'val_loss', values: MONITORS, placeholder: '<metric>',
    help: 'Metric for the best checkpoint, early stopping and reduce-on-plateau.' },
  earlyStoppingPatience: { type: 'int', default: 0, min: 0, placeholder: '<n>', help: 'Stop after <n> epochs without improvement of --monitor (0 = off).' },
  reducePatience: { type: 'int', default: 0, min: 0, placeholder: '<n>', help: 'Reduce the learning rate after <n> epochs without improvement (0 = off).' },
  reduceFactor: { type: 'number', default: 0.1, min: 0, max: 1, minExclusive: true, maxExclusive: true, placeholder: '<f>', help: 'Reduce-on-plateau: multiply the learning rate by <f>.' },
  seed: { type: 'int', default: 0, min: 0, max: 2 ** 31 - 1, placeholder: '<n>', help: 'Seeds weights, data order, augmentation and dropout: same seed, same run.' },
  topK: { type: 'int', default: 5, min: 1, placeholder: '<k>', help: 'The report\'s top-k accuracy.' },
  runsDir: { type: 'string', default: 'runs', placeholder: '<dir>', help: 'Where run directories are created (relative to the working directory).' },
  backend: { type: 'enum', default: 'auto', values: ['auto', 'torch', 'cpu'], placeholder: '<name>', help: 'Compute backend: torch (libtorch), cpu (TensorFlow.js), auto (torch when available).' },
  workers: { type: 'int', default: null, nullable: true, min: 0, max: 64, placeholder: '<n>', help: 'Data loader threads (0 = on the main thread). Default: min(2, cores).' },
  logEverySteps: { type: 'int', default: 0, min: 0, placeholder: '<n>', help: 'Also log metrics (metrics.jsonl, log lines) every <n> optimizer updates (0 = per epoch only).' },
  tensorboard: { type: 'bool', default: true, placeholder: '<bool>',
    help: 'Write a TensorBoard event file into the run directory (scalars, weight/gradient histograms, system metrics, sample predictions); --no-tensorboard turns it off.' },
  progress: { type: 'enum', default: 'auto', values: ['auto', 'bar', 'log', 'none'], placeholder: '<kind>', help: 'Progress output: bar on a terminal, log lines otherwise (auto).' },
};

/**
 * Validates a (partial) training config and fills in the defaults. Throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem.
 * Example: `resolveTrainConfig({ epochs: 2, limit: 2000 })`.
 */
export function resolveTrainConfig(input: unknown = {}, source = 'training config'): TrainConfig {
  const config = validateConfig<TrainConfig>(TRAIN_SCHEMA, input, source);
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
  return config;
}
