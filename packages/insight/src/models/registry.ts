// The model zoo: one builder per architecture, chosen by name. Every model leaves here with its Insight
// metadata set, so saving it gives a self-describing model directory. Your own models take the same way out
// through custom_model.ts (architecture 'custom').
import type * as tfl from '@tensorflow/tfjs-layers';

import type { Normalization } from '../data';
import { ruleError } from '../errors';
import { setInsightMetadata } from './metadata';
import { MODEL_NAMES, type ModelName } from './names';
import { buildResnet } from './resnet';
import { buildSeedCnn } from './seed_cnn';

export interface CreateModelOptions {
  /** [height, width, channels] of one input image; channels must be 3 (RGB). */
  inputShape: [number, number, number];
  numClasses: number;
  /** Class index → name, stored in the model. Default: '0', '1', ... */
  classNames?: string[];
  /** Stored in the model so predict/evaluate preprocess the same way. Default: { kind: 'scale' }. */
  normalization?: Normalization;
  /** Seeds the weight initializers (same seed → same initial weights, on any backend). */
  seed?: number;
  /** Dropout rate (seed-cnn: before each Dense; resnet: before the classifier). Default 0 (off). */
  dropout?: number;
  /** resnet only: 6n+2 weighted layers. Default 20. */
  depth?: number;
  /** resnet only: first-stage channels. Default 16. */
  width?: number;
}

interface ZooEntry {
  description: string;
  build(options: Required<Omit<CreateModelOptions, 'seed' | 'classNames' | 'normalization'>> & { seed?: number }): tfl.LayersModel;
}

/** One entry per name of MODEL_NAMES, in that order. */
const ZOO: Record<ModelName, ZooEntry> = {
  'seed-cnn': {
    description: 'The Keras CNN tutorial network (3 conv, 2 dense; 122,570 parameters on 32x32x3).',
    build: (o) => buildSeedCnn(o),
  },
  resnet: {
    description: 'CIFAR ResNet with BasicBlocks and BatchNorm; depth 6n+2 (default 20), width (default 16).',
    build: (o) => buildResnet(o),
  },
};

/** name → one-line description, for `--help` and errors. */
export function describeModels(): Record<string, string> {
  return Object.fromEntries(Object.entries(ZOO).map(([name, entry]) => [name, entry.description]));
}

/**
 * Builds a zoo model with its metadata set. The model outputs logits: [batch, numClasses].
 * Example: `createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 }).summary()`.
 */
export function createModel(name: string, options: CreateModelOptions): tfl.LayersModel {
  const entry = (MODEL_NAMES as readonly string[]).includes(name) ? ZOO[name as ModelName] : undefined;
  if (entry === undefined) {
    throw ruleError('INSIGHT_E_CONFIG', 'The model must be one of the zoo\'s models.', { model: name },
      `Use one of: ${MODEL_NAMES.join(', ')}; for your own model, use buildCustomModel (or pass it to train({ model })).`);
  }
  const resolved = {
    inputShape: options.inputShape,
    numClasses: options.numClasses,
    dropout: options.dropout ?? 0,
    depth: options.depth ?? 20,
    width: options.width ?? 16,
    seed: options.seed,
  };
  checkOptions(name, resolved, options.classNames);
  const model = entry.build(resolved);
  const architectureOptions: Record<string, number> = { dropout: resolved.dropout };
  if (name === 'resnet') Object.assign(architectureOptions, { depth: resolved.depth, width: resolved.width });
  setInsightMetadata(model, {
    formatVersion: 1,
    architecture: name,
    architectureOptions,
    inputShape: [...options.inputShape],
    classNames: options.classNames ?? Array.from({ length: options.numClasses }, (_, i) => String(i)),
    normalization: options.normalization ?? { kind: 'scale' },
  });
  return model;
}

function checkOptions(
  name: string,
  o: { inputShape: number[]; numClasses: number; dropout: number; depth: number; width: number },
  classNames: string[] | undefined,
): void {
  const [h, w, c] = o.inputShape;
  if (o.inputShape.length !== 3 || c !== 3 || !(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) {
    throw ruleError('INSIGHT_E_CONFIG', 'inputShape must be [height, width, 3] with positive integer sizes.',
      { inputShape: o.inputShape }, 'Pass e.g. inputShape: [32, 32, 3].');
  }
  const minSize = name === 'seed-cnn' ? 18 : 4;
  if (h < minSize || w < minSize) {
    throw ruleError('INSIGHT_E_CONFIG', `The ${name} model needs images of at least ${minSize}x${minSize} pixels.`,
      { inputShape: o.inputShape }, 'Resize the images (e.g. imageSize: 32).');
  }
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'numClasses must be an integer >= 2.', { numClasses: o.numClasses },
      'Use a dataset with at least two classes.');
  }
  if (classNames !== undefined && classNames.length !== o.numClasses) {
    throw ruleError('INSIGHT_E_CONFIG', 'classNames must have one name per class.',
      { 'classNames.length': classNames.length, numClasses: o.numClasses }, 'Pass as many names as classes.');
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) {
    throw ruleError('INSIGHT_E_CONFIG', 'dropout must be a rate in [0, 1).', { dropout: o.dropout }, 'Pass e.g. dropout: 0.2, or 0 for none.');
  }
  if (!Number.isInteger(o.depth) || o.depth < 8 || (o.depth - 2) % 6 !== 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'resnet depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110 ...).',
      { depth: o.depth }, 'Pass e.g. depth: 20.');
  }
  if (!Number.isInteger(o.width) || o.width < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'resnet width must be a positive integer.', { width: o.width }, 'Pass e.g. width: 16.');
  }
}
