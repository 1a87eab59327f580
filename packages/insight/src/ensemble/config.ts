// The typed config of `insight ensemble`, validated once like every command's (flags are generated from it).
// Members are run or model directories (positional), or the per-epoch snapshots of one run (--snapshots).
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { FIELDS } from '../run/config_fields';
import { Nullable, Text, validateConfig, withOptions } from '../run/config_schema';

export const ENSEMBLE_SCHEMA = Type.Object({
  members: Type.Array(Type.String({ minLength: 1, description: 'paths' }), { default: [], noFlag: true, placeholder: '<run|model...>',
    help: 'The members: run directories or model directories (with model.json), at least two.' }),
  snapshots: Nullable(Text(), { placeholder: '<run>',
    help: 'Build a snapshot ensemble from one run\'s per-epoch snapshots instead (a run trained with --keep-snapshots <n>).' }),
  epochs: Nullable(Text(), { placeholder: '<list>', help: '--snapshots: the epochs to use, comma-separated (e.g. 6,8,10). Default: --last, else every snapshot kept.' }),
  last: Nullable(Type.Integer({ minimum: 2 }), { placeholder: '<n>', help: '--snapshots: the last <n> snapshots of the run. Default: every snapshot it kept.' }),
  weights: Nullable(Text(), { placeholder: '<list>',
    help: 'One weight per member, comma-separated numbers >= 0 (e.g. 1,2,1), normalised to sum 1. Default: equal weights.' }),
  out: Text({ placeholder: '<dir>', help: 'The model directory to write (model.json + weights.bin, atomically), usable by evaluate, predict and serve.',
    missing: { rule: 'insight ensemble needs --out, the model directory to write.', fix: 'Pass e.g. --out ensembles/cifar-3.' } }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend for loading the members and building the ensemble (as for train).' }),
});

export type EnsembleConfig = Static<typeof ENSEMBLE_SCHEMA>;

/** What the library's ensemble() takes: the config's keys, with weights and epochs also as lists of numbers. */
export type EnsembleOptions = Partial<Omit<EnsembleConfig, 'weights' | 'epochs'>> & {
  weights?: number[] | string | null;
  epochs?: number[] | string | null;
};

/**
 * Validates an ensemble config: members or --snapshots (not both), the snapshot choices only with --snapshots,
 * weights and epochs well-formed. Throws INSIGHT_E_CONFIG (rule, `Received: key=value`, fix).
 */
export function resolveEnsembleConfig(input: EnsembleOptions | Record<string, unknown>): EnsembleConfig {
  const given = { ...input } as Record<string, unknown>;
  for (const key of ['weights', 'epochs']) if (Array.isArray(given[key])) given[key] = (given[key] as unknown[]).join(',');
  const config = validateConfig(ENSEMBLE_SCHEMA, given, 'ensemble config');
  const snapshots = config.snapshots !== null;
  if (snapshots && config.members.length > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'An ensemble takes either member directories or --snapshots <run>, not both.',
      { members: config.members.join(' '), snapshots: config.snapshots }, 'Drop the member directories, or drop --snapshots.');
  }
  if (!snapshots && config.members.length < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'An ensemble needs at least two members.', { members: config.members.join(' ') || '(none)' },
      'Pass two or more run or model directories, e.g. insight ensemble runs/a runs/b --out ens, or --snapshots <run>.');
  }
  for (const key of ['epochs', 'last'] as const) {
    if (!snapshots && config[key] !== null) {
      throw ruleError('INSIGHT_E_CONFIG', `--${key} chooses snapshots, so it needs --snapshots <run>.`, { [key]: config[key] },
        `Add --snapshots <run>, or drop --${key}.`);
    }
  }
  if (config.epochs !== null && config.last !== null) {
    throw ruleError('INSIGHT_E_CONFIG', '--epochs and --last both choose the snapshots: give one.', { epochs: config.epochs, last: config.last },
      'Drop one of them.');
  }
  if (config.weights !== null) parseWeights(config.weights);
  if (config.epochs !== null) parseEpochs(config.epochs);
  return config;
}

/** '1,2,1' → [1, 2, 1]: numbers >= 0, not all 0. */
export function parseWeights(text: string): number[] {
  const weights = text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
  if (weights.some((w) => !Number.isFinite(w) || w < 0) || !weights.some((w) => w > 0)) {
    throw ruleError('INSIGHT_E_CONFIG', 'weights must be comma-separated numbers >= 0, at least one of them > 0.', { weights: text },
      'Pass one weight per member, e.g. --weights 1,2,1.');
  }
  return weights;
}

/** '6,8,10' → [6, 8, 10]: distinct integers >= 1, at least two. */
export function parseEpochs(text: string): number[] {
  const epochs = text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
  if (epochs.some((e) => !Number.isInteger(e) || e < 1) || new Set(epochs).size !== epochs.length || epochs.length < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'epochs must be two or more distinct epoch numbers (from 1), comma-separated.', { epochs: text },
      'Pass e.g. --epochs 6,8,10 (see the run\'s snapshots/ directory for the epochs it kept).');
  }
  return epochs;
}
