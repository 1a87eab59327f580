// The config fields several commands share, defined once: their type, range, default, placeholder and the
// reference help line (train's). A command that means the same thing uses the field as it is; one whose default
// or wording differs adapts it with withOptions(FIELDS.topK, { default: 3, help: '...' }), keeping the rule.
// This module stays light (no tfjs, no backend): every command's schema imports it at start-up.
import { Type } from '@sinclair/typebox';

import { ListOf, Nullable, OneOf, Text, withOptions } from './config_schema';

export const DATASET_KINDS = ['auto', 'cifar10', 'image-folder'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];
export const BACKEND_CHOICES = ['auto', 'torch', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export const PROGRESS_KINDS = ['auto', 'bar', 'log', 'none'] as const;
export type ProgressKind = (typeof PROGRESS_KINDS)[number];
export const AUGMENTATIONS = ['crop', 'flip', 'cutout'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];
export const PRECISIONS = ['fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const SPLIT_METHODS = ['auto', 'stratified', 'last'] as const;
export type SplitMethod = (typeof SPLIT_METHODS)[number];

export const FIELDS = {
  data: Nullable(Text(), { placeholder: '<path>',
    help: 'Dataset: a CIFAR-10 binary archive (.tar.gz) or folder, or an image folder (<class>/<image>). Default: CIFAR-10 from the cache ($INSIGHT_HOME/datasets or ~/.insight/datasets).' }),
  dataset: OneOf(DATASET_KINDS, { default: 'auto', placeholder: '<kind>',
    help: 'How to read --data; auto: an archive or a folder with data_batch_*.bin is CIFAR-10, any other folder an image folder.' }),
  limit: Nullable(Type.Integer({ minimum: 2 }), { placeholder: '<n>',
    help: 'Use only <n> images of the dataset (quick runs): the same share of every class (stratified split), or the first <n> (last).' }),
  valData: Nullable(Text(), { placeholder: '<path>',
    help: 'A separate validation set (image folder or CIFAR-10 archive/folder, classes matched by name); every --data image then trains.' }),
  splitMethod: OneOf(SPLIT_METHODS, { default: 'auto', placeholder: '<method>',
    help: 'Train/validation split: stratified (a seeded share of every class), last (the last records), auto: stratified for image folders, last for CIFAR-10 (its house split).' }),
  splitSeed: Type.Integer({ default: 0, minimum: 0, maximum: 2 ** 31 - 1, placeholder: '<n>',
    help: 'Seed of the stratified split and --limit, apart from --seed so runs with different seeds validate on the same images.' }),
  augment: ListOf(AUGMENTATIONS, { default: [], placeholder: '<list>',
    help: 'Training augmentations, comma-separated: crop (random crop after padding), flip (horizontal), cutout; none = off (the reference).' }),
  epochs: Type.Integer({ default: 10, minimum: 1, placeholder: '<n>', help: 'Epochs to train.' }),
  batchSize: Type.Integer({ default: 64, minimum: 1, placeholder: '<n>', help: 'Images per forward/backward pass (per micro-batch with --grad-accumulation).' }),
  seed: Type.Integer({ default: 0, minimum: 0, maximum: 2 ** 31 - 1, placeholder: '<n>', help: 'Seeds weights, data order, augmentation and dropout: same seed, same run.' }),
  topK: Type.Integer({ default: 5, minimum: 1, placeholder: '<k>', help: 'The report\'s top-k accuracy.' }),
  runsDir: Text({ default: 'runs', placeholder: '<dir>', help: 'Where run directories are created (relative to the working directory).' }),
  name: Nullable(Text(), { placeholder: '<name>',
    help: 'A name for the run, shown by insight runs and the dashboard, and usable as --where name=<name> and in place of the run id.' }),
  backend: OneOf(BACKEND_CHOICES, { default: 'auto', placeholder: '<name>',
    help: 'Compute backend: torch (libtorch), cpu (TensorFlow.js; trains only when named: slow), auto (env INSIGHT_BACKEND when set, else torch when available, else cpu for inference only).' }),
  workers: Nullable(Type.Integer({ minimum: 0, maximum: 64 }), { placeholder: '<n>', help: 'Data loader threads (0 = on the main thread). Default: min(2, cores).' }),
  progress: OneOf(PROGRESS_KINDS, { default: 'auto', placeholder: '<kind>', help: 'Progress output: bar on a terminal, log lines otherwise (auto).' }),
  progressEverySeconds: Type.Number({ default: 30, minimum: 0, placeholder: '<s>',
    help: 'Log lines (no terminal): also print one whenever <s> seconds pass without one, so a long epoch shows life (0 = off).' }),
  checkpointEverySteps: Type.Integer({ default: 0, minimum: 0, placeholder: '<n>',
    help: 'Also save checkpoints/last every <n> optimizer updates inside an epoch, so a long epoch is not lost (0 = per epoch only).' }),
  adaptiveThreads: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Adapt libtorch\'s thread count while training: all cores while the machine is quiet, fewer while another busy process competes (short probes now and then). Off by default: the count changes the summation order of convolution gradients, so runs are then repeatable to float rounding only, not bit for bit. Ignored when INSIGHT_TORCH_THREADS is set and in data-parallel workers.' }),
  precision: OneOf(PRECISIONS, { default: 'fp32', placeholder: '<p>',
    help: 'Precision of the training passes\' convolutions and matrix products: fp32, or bf16 mixed precision (bfloat16 convolutions, matrix products and activations between them; float32 weights, optimizer state, BatchNorm statistics, losses and validation; torch backend on a CPU with AVX512-BF16 or AMX).' }),
  port: Type.Integer({ default: 8501, minimum: 0, maximum: 65535, placeholder: '<port>', help: 'TCP port (0 = any free port).' }),
  host: Text({ default: '127.0.0.1', placeholder: '<addr>', help: 'Address to listen on.' }),
};

/**
 * The run keys of the commands that train a model they are given (finetune, compress), last in their schemas, with
 * the short help they share: the report's top-k, where the run goes and its name, and how it runs.
 */
export const GIVEN_MODEL_RUN_FIELDS = {
  topK: withOptions(FIELDS.topK, { help: 'The report\'s top-k accuracy (at most the number of classes).' }),
  runsDir: withOptions(FIELDS.runsDir, { help: 'Where run directories are created.' }),
  name: withOptions(FIELDS.name, { help: 'A name for the run (as for train).' }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend (as for train).' }),
  workers: withOptions(FIELDS.workers, { help: 'Data loader threads (0 = main thread).' }),
  progress: withOptions(FIELDS.progress, { help: 'Progress output (as for train).' }),
  progressEverySeconds: withOptions(FIELDS.progressEverySeconds, { help: 'Log lines at least every <s> seconds (as for train; 0 = off).' }),
  checkpointEverySteps: withOptions(FIELDS.checkpointEverySteps, { help: 'Also save checkpoints/last every <n> updates inside an epoch (as for train).' }),
  adaptiveThreads: withOptions(FIELDS.adaptiveThreads, { help: 'Adapt libtorch\'s thread count to other busy processes (as for train; off by default).' }),
};
