// `insight explain`'s config: EXPLAIN_SCHEMA (defaults.ts: the model, the images and every explanation option)
// plus what only the command has — where and in which formats the results go, the k-NN neighbours, stdout as JSON
// lines, and the faithfulness evaluation. Light (no tfjs): --help and a bad flag answer from this alone.
//
//   resolveExplainCommandConfig({ model: 'runs/x', images: ['cat.jpg'], methods: 'gradcam,ig', format: 'png,npy' })
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { ListOf, Nullable, Text, validateConfig, withOptions } from '../run/config_schema';
import { EXPLAIN_SCHEMA, resolveExplainOptions, type ExplainOptions } from './defaults';

/** What `--format` may list: overlay and grid pictures, maps as JSON, maps as .npy. */
export const OUTPUT_FORMATS = ['png', 'json', 'npy'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const EXPLAIN_COMMAND_SCHEMA = Type.Object({
  ...EXPLAIN_SCHEMA.properties,
  // The command's default is the cheap method: one forward and one backward pass per image (IG costs `steps` of them).
  methods: withOptions(EXPLAIN_SCHEMA.properties.methods, { default: ['gradcam'] }),
  neighbours: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<k>',
    help: 'Also find each image\'s <k> nearest training images in the penultimate-layer embedding (the run\'s memory index, built once and stored in the run). Needs a run directory.' }),
  out: Nullable(Text(), { placeholder: '<dir>',
    help: 'Write the results to <dir>. Default: <run>/explain/<timestamp> for a run directory, ./explanations for a model directory.' }),
  format: ListOf(OUTPUT_FORMATS, { default: [...OUTPUT_FORMATS], placeholder: '<list>',
    help: 'What to write, comma-separated: png (an overlay per image and method, a grid, neighbour strips), json (maps as arrays, one file per image), npy (one [H, W] float32 map per image and method).' }),
  json: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Print one JSON object per image (or, with --evaluate, the report) instead of the summary.' }),
  evaluate: Type.Boolean({ default: false, placeholder: '<bool>',
    help: 'Measure the methods\' faithfulness instead of writing maps: deletion/insertion AUC against random maps, the model-randomisation sanity check, IG completeness. Prints the table and writes faithfulness.json.' }),
  evaluateImages: Type.Integer({ default: 16, minimum: 1, placeholder: '<n>',
    help: '--evaluate without images: how many of the run\'s validation images to use (the first <n>). Images given as arguments are all used.' }),
  curveSteps: Type.Integer({ default: 25, minimum: 2, placeholder: '<n>',
    help: '--evaluate: points on each deletion and insertion curve (fractions 0 .. 1 of the pixels).' }),
});

export type ExplainCommandConfig = Omit<Static<typeof EXPLAIN_COMMAND_SCHEMA>, 'methods' | 'classes'> & Pick<ExplainOptions, 'methods' | 'classes'>;

/**
 * Validates the command's settings once: every key's rule, the methods and classes as explain() reads them, and the
 * rules between keys (images unless --evaluate, --neighbours not with --evaluate, at least one format).
 */
export function resolveExplainCommandConfig(input: unknown): ExplainCommandConfig {
  // classes may also be a list of indices and names (the library's form); the schema's key is the CLI's string.
  const given = input !== null && typeof input === 'object' && !Array.isArray(input) ? input as Record<string, unknown> : null;
  const { classes: rawClasses, ...rest } = given ?? {};
  const config = validateConfig(EXPLAIN_COMMAND_SCHEMA, given === null ? input : { ...rest, ...(typeof rawClasses === 'string' ? { classes: rawClasses } : {}) },
    'config of explain');
  const { methods, classes } = resolveExplainOptions({ methods: config.methods, classes: rawClasses ?? config.classes });
  if (config.images.length === 0 && !config.evaluate) {
    throw ruleError('INSIGHT_E_CONFIG', 'explain needs at least one image file or folder (or --evaluate, which can use the run\'s validation images).',
      { images: [] }, 'Pass e.g. `insight explain runs/<run-id> cat.jpg photos/`.');
  }
  if (config.format.length === 0 && !config.evaluate) {
    throw ruleError('INSIGHT_E_CONFIG', 'format must list at least one of: png, json, npy.', { format: 'none' },
      'Pass e.g. --format png,npy (default: png,json,npy).');
  }
  if (config.evaluate && config.neighbours !== null) {
    throw ruleError('INSIGHT_E_CONFIG', '--neighbours applies to explanations, not to --evaluate.', { evaluate: true, neighbours: config.neighbours },
      'Run `insight explain` once with --evaluate, and once with --neighbours.');
  }
  return { ...config, methods, classes };
}
