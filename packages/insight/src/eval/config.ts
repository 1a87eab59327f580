// The typed configs of `insight evaluate` and `insight predict`, validated once like the training config.
import { Type, type Static } from '@sinclair/typebox';

import { CALIBRATION_BINS_FIELD } from '../calibrate/config';
import { ruleError } from '../errors';
import { parseTta, TTA_SYNTAX } from '../models/tta_settings';
import { ATTACK_NAMES, ATTACK_NORMS, DEFAULT_STEPS, resolveAttackSpec, type AttackSpec } from '../robust/attacks/spec';
import { FIELDS, SPLIT_METHODS } from '../run/config_fields';
import { flagOf, Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';

/** The saved model both commands take as their first argument. */
const MODEL = Text({ noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.',
  missing: { rule: 'A model directory or run directory is required.', fix: 'Pass it as the first argument, e.g. runs/<run-id>.' } });
const BACKEND = withOptions(FIELDS.backend, { help: 'Compute backend (as for train).' });
/** Test-time augmentation; null = the model's metadata (inference.tta), else none. Parsed by models/tta_settings.ts. */
export const TTA_FIELD = Nullable(Text(), { placeholder: '<views>',
  help: `Test-time augmentation, probabilities averaged over views: ${TTA_SYNTAX} (N pixels, default 1; reflect-padded diagonal shifts both ways). Default: the model's stored setting, else none.` });

/** evaluate's attack (robust/attacks): --attack turns it on; radii and step sizes in pixel units, fractions allowed. */
const ATTACK_FIELDS = {
  attack: Nullable(OneOf(ATTACK_NAMES), { placeholder: '<name>',
    help: 'Also report robust accuracy under an attack: fgsm, pgd (projected gradient descent) or apgd (APGD-CE, adaptive step size).' }),
  eps: Nullable(Type.Number({ exclusiveMinimum: 0 }), { placeholder: '<eps>',
    help: 'Attack radius in pixel units ([0, 1] scale), a number or a fraction such as 8/255. Required with --attack.' }),
  norm: OneOf(ATTACK_NORMS, { default: 'linf', placeholder: '<norm>', help: 'Threat model: linf, or l2 (per-image Euclidean norm of the pixel change).' }),
  steps: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: `pgd and apgd: iterations (fgsm is one step). Default: ${DEFAULT_STEPS}.` }),
  alpha: Nullable(Type.Number({ exclusiveMinimum: 0 }), { placeholder: '<alpha>',
    help: 'pgd: step size in pixel units (a number or fraction). Default: 2.5 * eps / steps.' }),
  restarts: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>',
    help: 'pgd and apgd: random restarts; per image the one that fools the model is kept, else the highest loss. Default: 1.' }),
  attackSeed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0, placeholder: '<n>', help: 'Seeds the attack\'s random starts.' }),
  attackLimit: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: 'Attack only the first <n> images of the split (attacks are costly). Default: all.' }),
};

export const EVALUATE_SCHEMA = Type.Object({
  model: MODEL,
  data: withOptions(FIELDS.data, { help: 'Dataset (as for train). Default: the run\'s own dataset when <model> is a run, else CIFAR-10 from the cache.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  split: OneOf(['validation', 'test', 'train', 'all'], { default: 'validation', placeholder: '<split>',
    help: 'validation: the held-out images (a run\'s own, as recorded in its data.json); test: CIFAR-10\'s test_batch.bin; train: the rest; all: every image.' }),
  limit: withOptions(FIELDS.limit, { help: 'Use only <n> images before splitting (as for train). Default: the run\'s --limit.' }),
  validationCount: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: 'Size of the validation split. Default: the run\'s, else 10% of the images.' }),
  splitMethod: Nullable(OneOf(SPLIT_METHODS), { placeholder: '<method>',
    help: 'How the validation split is chosen (as for train). Default: the run\'s, else auto (stratified for image folders, last for CIFAR-10).' }),
  splitSeed: Nullable(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }), { placeholder: '<n>', help: 'Seed of the stratified split. Default: the run\'s, else 0.' }),
  batchSize: withOptions(FIELDS.batchSize, { default: 256, help: 'Images per inference batch.' }),
  topK: withOptions(FIELDS.topK, { help: 'Report top-<k> accuracy.' }),
  bins: withOptions(CALIBRATION_BINS_FIELD, { help: 'Equal-width confidence bins of the expected calibration error (ECE, MCE) and the reliability diagram.' }),
  out: Nullable(Text(), { placeholder: '<dir>', help: 'Write the report (metrics.json, confusion.png, per_class.txt, confusion.txt, reliability.png) to <dir>.' }),
  tta: TTA_FIELD,
  ...ATTACK_FIELDS,
  backend: BACKEND,
  workers: withOptions(FIELDS.workers, { help: 'Data loader threads (0 = main thread).' }),
});

export type EvaluateConfig = Static<typeof EVALUATE_SCHEMA>;

export const PREDICT_SCHEMA = Type.Object({
  model: MODEL,
  images: Type.Array(Type.String({ minLength: 1, description: 'paths' }), { default: [], noFlag: true, placeholder: '<images...>',
    help: 'Image files, or folders (searched recursively).' }),
  topK: withOptions(FIELDS.topK, { default: 3, help: 'Print the <k> most probable classes per image.' }),
  tta: TTA_FIELD,
  backend: BACKEND,
  json: Type.Boolean({ default: false, placeholder: '<bool>', help: 'Print one JSON object per image instead of a table.' }),
  strict: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Stop at the first file that cannot be read as an image (default: report it, with the reason, and go on).' }),
});

export type PredictConfig = Static<typeof PREDICT_SCHEMA>;

/** Validates an evaluate config; `model` is required. */
export function resolveEvaluateConfig(input: unknown): EvaluateConfig {
  const config = validateConfig(EVALUATE_SCHEMA, flattenAttack(input), 'evaluate config');
  if (config.tta !== null) parseTta(config.tta);
  attackSpecOf(config); // a bad attack fails here, before tfjs loads
  return config;
}

/** The attack as the library may give it to evaluate: an AttackSpec's settings plus how many images to attack. */
export type EvaluateAttack = Pick<AttackSpec, 'attack' | 'eps' | 'norm' | 'steps' | 'alpha' | 'restarts' | 'seed'> & { limit?: number };

/** evaluate()'s input: the config's keys, `attack` either a name (with the flat keys, as the CLI) or an EvaluateAttack. */
export type EvaluateInput = Partial<Omit<EvaluateConfig, 'attack'>> & { model: string; attack?: EvaluateConfig['attack'] | EvaluateAttack };

/** `attack: { attack, eps, ... }` (library) → the config's flat keys (attack, eps, ..., attackSeed, attackLimit). */
function flattenAttack(input: unknown): unknown {
  const given = input as Record<string, unknown> | null;
  const spec = given?.attack;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return input;
  const { attack, eps, norm, steps, alpha, restarts, seed, limit, ...unknown } = spec as EvaluateAttack & Record<string, unknown>;
  const extra = Object.keys(unknown)[0];
  if (extra !== undefined) {
    throw ruleError('INSIGHT_E_CONFIG', 'evaluate\'s attack takes the keys attack, eps, norm, steps, alpha, restarts, seed and limit.',
      { [extra]: unknown[extra] }, "Remove it, e.g. attack: { attack: 'pgd', eps: 8 / 255, steps: 20, limit: 500 }.");
  }
  const flat = { attack, eps, norm, steps, alpha, restarts, attackSeed: seed, attackLimit: limit };
  return { ...given, ...Object.fromEntries(Object.entries(flat).filter(([, v]) => v !== undefined)) };
}

/** The AttackSpec of an evaluate config (null without --attack); settings that need --attack, or a bad spec, throw. */
export function attackSpecOf(config: EvaluateConfig): AttackSpec | null {
  if (config.attack === null) {
    const orphan = (['eps', 'alpha', 'steps', 'restarts', 'attackLimit'] as const).find((key) => config[key] !== null);
    if (orphan !== undefined) {
      throw ruleError('INSIGHT_E_CONFIG', `${flagOf(orphan)} is an attack setting: it needs --attack.`, { [orphan]: config[orphan] },
        'Add e.g. --attack pgd, or leave it out.');
    }
    return null;
  }
  if (config.eps === null) {
    throw ruleError('INSIGHT_E_CONFIG', '--attack needs --eps, the radius in pixel units ([0, 1] scale).', { attack: config.attack, eps: null },
      'Pass e.g. --eps 8/255 (L-inf) or --eps 0.5 --norm l2.');
  }
  const spec: AttackSpec = { attack: config.attack, eps: config.eps, norm: config.norm, seed: config.attackSeed };
  if (config.steps !== null) spec.steps = config.steps;
  if (config.alpha !== null) spec.alpha = config.alpha;
  if (config.restarts !== null) spec.restarts = config.restarts;
  resolveAttackSpec(spec);
  return spec;
}

/** Validates a predict config; `model` and at least one image are required. */
export function resolvePredictConfig(input: unknown): PredictConfig {
  const config = validateConfig(PREDICT_SCHEMA, input, 'predict config');
  if (config.tta !== null) parseTta(config.tta);
  if (config.images.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'predict needs at least one image file or folder.', { images: [] },
      'Pass e.g. `insight predict runs/<run-id> cat.jpg photos/`.');
  }
  return config;
}
