// The options of `explain` as data: one TypeBox schema (type, range, default, help) that validates library calls,
// config files, the CLI's flags (command_config.ts builds on it) and the server's requests; METHOD_DEFAULTS are its
// defaults. Light (no tfjs): the CLI's --help and
// the server's request checks load it at start-up.
//
//   resolveMethodOptions({ steps: 64 })        // → METHOD_DEFAULTS with steps 64
//   resolveMethodOptions({ steps: 0 })         // throws INSIGHT_E_CONFIG 'steps must be an integer >= 2. Received: steps=0. ...'
//   resolveExplainOptions({ methods: 'ig,occlusion', classes: [3] })
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { FIELDS } from '../run/config_fields';
import { ListOf, Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';
import type { MethodOptions } from './attribution';
import { EXPLAIN_METHODS, IG_BASELINES, type ExplainMethod } from './method_names';

/** The per-method options a user sets (MethodOptions without the model-derived blackValue / whiteValue). */
export const METHOD_OPTIONS_SCHEMA = Type.Object({
  layer: Nullable(Text(), { placeholder: '<layer>',
    help: 'gradcam, gradcam++: the layer whose activations are weighted. Default: the last layer every path passes through after the last convolution, at its spatial size.' }),
  steps: Type.Integer({ default: 50, minimum: 2, placeholder: '<n>',
    help: 'ig: points on the straight path from the baseline to the image (trapezoid rule; one gradient per point).' }),
  baseline: OneOf(IG_BASELINES, { default: 'black', placeholder: '<kind>',
    help: 'ig: the reference input: black pixels, a Gaussian-blurred copy of the image (sigma = min(H, W) / 10), or seeded uniform noise.' }),
  samples: Type.Integer({ default: 50, minimum: 1, placeholder: '<n>', help: 'smoothgrad, smoothgrad2, vargrad: noisy copies per image.' }),
  noiseLevel: Type.Number({ default: 0.15, minimum: 0, placeholder: '<f>',
    help: 'smoothgrad, smoothgrad2, vargrad: noise standard deviation as a fraction of each image\'s value range (max - min).' }),
  window: Type.Integer({ default: 8, minimum: 1, placeholder: '<px>', help: 'occlusion: side of the square patch, in pixels.' }),
  stride: Type.Integer({ default: 4, minimum: 1, placeholder: '<px>', help: 'occlusion: step between patches, in pixels.' }),
  internalBatchSize: Type.Integer({ default: 64, minimum: 1, placeholder: '<n>',
    help: 'Most model rows (interpolated, noisy or occluded copies) in one forward/backward pass; bounds memory.' }),
  seed: withOptions(FIELDS.seed, { help: 'Seeds the noise of smoothgrad, smoothgrad2, vargrad and the ig noise baseline: same seed, same maps.' }),
});

/** Every option of an explanation besides the model and the images. */
export const EXPLAIN_OPTIONS_SCHEMA = Type.Object({
  methods: ListOf(EXPLAIN_METHODS, { default: ['gradcam', 'ig'], placeholder: '<list>',
    help: `Explanation methods, comma-separated: ${EXPLAIN_METHODS.join(', ')}.` }),
  classes: Text({ default: 'predicted', placeholder: '<list>',
    help: 'Class to explain: predicted (each image\'s top class), or class indices or names, comma-separated: one for all images or one per image.' }),
  ...METHOD_OPTIONS_SCHEMA.properties,
  attributions: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Also return the per-input-value attributions [H, W, C] of saliency, ig and the smoothgrad family.' }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend (as for train); used when the model is given as a path.' }),
});

/** `insight explain`'s config (a command-line or config-file shape; the library's explain() also takes loaded models and pixels). */
export const EXPLAIN_SCHEMA = Type.Object({
  model: Text({ noFlag: true, placeholder: '<model>', help: 'A model directory (with model.json) or a completed run directory.',
    missing: { rule: 'A model directory or run directory is required.', fix: 'Pass it as the first argument, e.g. runs/<run-id>.' } }),
  images: Type.Array(Type.String({ minLength: 1, description: 'paths' }), { default: [], noFlag: true, placeholder: '<images...>',
    help: 'Image files, or folders (searched recursively).' }),
  ...EXPLAIN_OPTIONS_SCHEMA.properties,
});

export type ExplainConfig = Static<typeof EXPLAIN_SCHEMA>;

/** The method options among an explanation's options (a null layer is the default layer). */
export function methodOptionsOf(options: Static<typeof METHOD_OPTIONS_SCHEMA>): Partial<MethodOptions> {
  const { layer, steps, baseline, samples, noiseLevel, window, stride, internalBatchSize, seed } = options;
  return { layer: layer ?? undefined, steps, baseline, samples, noiseLevel, window, stride, internalBatchSize, seed };
}

/** Which classes to explain: each image's predicted class, or indices / names (one for all images, or one per image). */
export type ClassChoice = 'predicted' | (number | string)[];

/** Resolved explanation options: the methods, the classes, every method option, whether to return attributions, the backend. */
export type ExplainOptions = Omit<Static<typeof EXPLAIN_OPTIONS_SCHEMA>, 'classes'> & { classes: ClassChoice };

const SCHEMA_DEFAULTS = validateConfig(METHOD_OPTIONS_SCHEMA, {});

/** Every method option at its default; blackValue / whiteValue are those of the reference normalization (x / 255). */
export const METHOD_DEFAULTS: Readonly<MethodOptions> = Object.freeze({
  ...SCHEMA_DEFAULTS, layer: undefined, blackValue: [0, 0, 0], whiteValue: [1, 1, 1],
});

/**
 * Method options from a partial object: unknown keys and bad values throw INSIGHT_E_CONFIG (rule, Received, fix),
 * missing keys take METHOD_DEFAULTS. blackValue / whiteValue must be equal-length lists of finite numbers.
 */
export function resolveMethodOptions(input: Partial<MethodOptions> = {}): MethodOptions {
  const { blackValue = METHOD_DEFAULTS.blackValue, whiteValue = METHOD_DEFAULTS.whiteValue, ...rest } = input;
  const finiteList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!finiteList(blackValue) || !finiteList(whiteValue) || blackValue.length !== whiteValue.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'blackValue and whiteValue must be lists of finite numbers, one per input channel.',
      { blackValue, whiteValue }, 'Pass the normalized values of byte 0 and byte 255 (pixelRange(normalization) computes them), or omit both for x / 255.');
  }
  const options = validateConfig(METHOD_OPTIONS_SCHEMA, rest, 'method config');
  return { ...options, layer: options.layer ?? undefined, blackValue: [...blackValue], whiteValue: [...whiteValue] };
}

/** The methods to run: a list or a comma-separated string of EXPLAIN_METHODS, at least one. */
export function resolveMethods(methods: unknown): ExplainMethod[] {
  const { methods: list } = validateConfig(Type.Object({ methods: EXPLAIN_OPTIONS_SCHEMA.properties.methods }), { methods });
  if (list.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'An explanation needs at least one method.', { methods },
      `Pass e.g. --methods gradcam,ig (methods: ${EXPLAIN_METHODS.join(', ')}).`);
  }
  return list;
}

/**
 * Validates the options of an explanation (everything but the model and the images). `classes` may be
 * 'predicted', a comma-separated string, or a list of class indices (integers ≥ 0) or names; whether they exist
 * is checked against the model's classes later. Example: `resolveExplainOptions({ methods: ['ig'], steps: 64 })`.
 */
export function resolveExplainOptions(input: unknown): ExplainOptions {
  const { classes, methods, ...rest } = (input ?? {}) as Record<string, unknown>;
  const options = validateConfig(EXPLAIN_OPTIONS_SCHEMA, { ...rest, ...(typeof classes === 'string' ? { classes } : {}) }, 'config of explain');
  return { ...options, methods: resolveMethods(methods ?? options.methods), classes: parseClasses(classes ?? options.classes) };
}

function parseClasses(raw: unknown): ClassChoice {
  const fail = () => ruleError('INSIGHT_E_CONFIG', 'classes must be \'predicted\', or class indices (integers >= 0) or class names: one for all images or one per image.',
    { classes: raw }, 'Pass e.g. --classes predicted, --classes 3 or --classes cat,dog.');
  if (raw === 'predicted') return 'predicted';
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(items) || items.length === 0) throw fail();
  return items.map((item: unknown) => {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0) return item;
    if (typeof item !== 'string' || item === '') throw fail();
    return /^\d+$/.test(item) ? Number(item) : item;
  });
}
