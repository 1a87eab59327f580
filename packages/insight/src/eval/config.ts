// The typed configs of `insight evaluate` and `insight predict`, validated once like the training config.
import { ruleError } from '../errors';
import { validateConfig, type Schema } from '../run/config_schema';

export interface EvaluateConfig {
  model: string;
  data: string | null;
  dataset: 'auto' | 'cifar10' | 'image-folder';
  split: 'validation' | 'test' | 'train' | 'all';
  limit: number | null;
  validationCount: number | null;
  batchSize: number;
  topK: number;
  out: string | null;
  backend: 'auto' | 'torch' | 'cpu';
  workers: number | null;
}

export const EVALUATE_SCHEMA: Schema = {
  model: { type: 'string', default: null, noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.' },
  data: { type: 'string', default: null, nullable: true, placeholder: '<path>',
    help: 'Dataset (as for train). Default: the run\'s own dataset when <model> is a run, else CIFAR-10 from the cache.' },
  dataset: { type: 'enum', default: 'auto', values: ['auto', 'cifar10', 'image-folder'], placeholder: '<kind>', help: 'How to read --data (as for train).' },
  split: { type: 'enum', default: 'validation', values: ['validation', 'test', 'train', 'all'], placeholder: '<split>',
    help: 'validation: the last --validation-count training images (the run\'s own split); test: CIFAR-10\'s test_batch.bin; train: the rest; all: every image.' },
  limit: { type: 'int', default: null, nullable: true, min: 2, placeholder: '<n>', help: 'Use only the first <n> images before splitting. Default: the run\'s --limit.' },
  validationCount: { type: 'int', default: null, nullable: true, min: 1, placeholder: '<n>',
    help: 'Size of the validation split. Default: the run\'s, else 10% of the images.' },
  batchSize: { type: 'int', default: 256, min: 1, placeholder: '<n>', help: 'Images per inference batch.' },
  topK: { type: 'int', default: 5, min: 1, placeholder: '<k>', help: 'Report top-<k> accuracy.' },
  out: { type: 'string', default: null, nullable: true, placeholder: '<dir>', help: 'Write the report (metrics.json, confusion.png, per_class.txt, confusion.txt) to <dir>.' },
  backend: { type: 'enum', default: 'auto', values: ['auto', 'torch', 'cpu'], placeholder: '<name>', help: 'Compute backend (as for train).' },
  workers: { type: 'int', default: null, nullable: true, min: 0, max: 64, placeholder: '<n>', help: 'Data loader threads (0 = main thread).' },
};

export interface PredictConfig {
  model: string;
  images: string[];
  topK: number;
  backend: 'auto' | 'torch' | 'cpu';
  json: boolean;
}

export const PREDICT_SCHEMA: Schema = {
  model: { type: 'string', default: null, noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.' },
  images: { type: 'paths', default: [], noFlag: true, placeholder: '<images...>', help: 'Image files, or folders (searched recursively).' },
  topK: { type: 'int', default: 3, min: 1, placeholder: '<k>', help: 'Print the <k> most probable classes per image.' },
  backend: { type: 'enum', default: 'auto', values: ['auto', 'torch', 'cpu'], placeholder: '<name>', help: 'Compute backend (as for train).' },
  json: { type: 'bool', default: false, placeholder: '<bool>', help: 'Print one JSON object per image instead of a table.' },
};

/** Validates an evaluate config; `model` is required. */
export function resolveEvaluateConfig(input: unknown): EvaluateConfig {
  return requireModel(validateConfig<EvaluateConfig>(EVALUATE_SCHEMA, input, 'evaluate config'));
}

/** Validates a predict config; `model` and at least one image are required. */
export function resolvePredictConfig(input: unknown): PredictConfig {
  const config = requireModel(validateConfig<PredictConfig>(PREDICT_SCHEMA, input, 'predict config'));
  if (config.images.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'predict needs at least one image file or folder.', { images: [] },
      'Pass e.g. `insight predict runs/<run-id> cat.jpg photos/`.');
  }
  return config;
}

function requireModel<T extends { model: string | null }>(config: T): T & { model: string } {
  if (config.model === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'A model directory or run directory is required.', { model: null },
      'Pass it as the first argument, e.g. runs/<run-id>.');
  }
  return config as T & { model: string };
}
