// What the `model` setting of a training run may name, decided without loading TensorFlow.js (configs are checked
// at start-up, before a command loads anything heavy): an architecture of the zoo, a file holding your own model
// — a module (.ts through tsx, or .js) whose default export builds it, or a model.json — or 'custom', which a
// run's config.json records for a model passed to train() as an object or a function (custom_model.ts loads them).
import * as path from 'node:path';

import { ruleError } from '../errors';
import { MODEL_NAMES, type ModelName } from './names';

/** The `model` a run records when train() was given the model itself (a LayersModel or a builder function). */
export const CUSTOM_MODEL = 'custom';

/** Extensions of a model module: TypeScript (loaded through tsx) and JavaScript, CommonJS or ES modules. */
export const MODEL_MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

export type ModelChoice =
  | { kind: 'zoo'; name: ModelName }
  /** A module whose default export is a ModelBuilder (or a LayersModel); `path` as given. */
  | { kind: 'module'; path: string }
  /** A TensorFlow.js model.json (topology, and weights when it lists them) or a Keras architecture JSON. */
  | { kind: 'json'; path: string }
  /** The model was passed to train() as an object or function; a resumed run rebuilds it from its checkpoint. */
  | { kind: 'custom' };

/**
 * Reads a `model` setting. Throws INSIGHT_E_CONFIG for a name that is neither a zoo model nor a model file.
 * Example: `modelChoiceOf('./my_model.ts')` → { kind: 'module', path: './my_model.ts' }.
 */
export function modelChoiceOf(model: string): ModelChoice {
  if ((MODEL_NAMES as readonly string[]).includes(model)) return { kind: 'zoo', name: model as ModelName };
  if (model === CUSTOM_MODEL) return { kind: 'custom' };
  const ext = path.extname(model).toLowerCase();
  if ((MODEL_MODULE_EXTENSIONS as readonly string[]).includes(ext)) return { kind: 'module', path: model };
  if (ext === '.json') return { kind: 'json', path: model };
  throw ruleError('INSIGHT_E_CONFIG',
    `model must be one of: ${MODEL_NAMES.join(', ')}, or a file with your own model: a module (${MODEL_MODULE_EXTENSIONS.join(', ')}) or a model.json.`,
    { model }, `Pass e.g. --model ${MODEL_NAMES[0]} (default: ${MODEL_NAMES[0]}), or --model ./my_model.ts.`);
}
