// The typed configs of `insight tune` (create or join a study and run its trials), `insight tune worker` (join an
// existing study from any machine), `tune show` and `tune list`, validated once at the edge like every command's.
// A study's base training config uses train's schema (BASE_TRAIN_SCHEMA: every train key but the three tune
// decides or names differently: `seed` and `workers` are tune's own flags here, `name` is set per trial).
import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../errors';
import { FIELDS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';
import type { Direction } from '../study/types';
import { TRAIN_SCHEMA } from '../train/config';
import { PRUNER_NAMES } from './pruners';
import { SAMPLER_NAMES } from './samplers';
import { MONITORS } from '../train/state';

const DIRECTIONS = ['maximize', 'minimize'] as const;

/** Train's keys a study's base config takes from flags (seed, workers: tune's flags; name: set per trial). */
export const BASE_TRAIN_SCHEMA = Type.Object(Object.fromEntries(Object.entries(TRAIN_SCHEMA.properties)
  .filter(([key]) => !['seed', 'workers', 'name'].includes(key))));

const STUDY = Text({ placeholder: '<name>', help: 'The study: created with --space, joined (or resumed) when it exists in the storage.',
  missing: { rule: 'A study needs a name.', fix: 'Pass e.g. --study lr-search.' } });
const STORAGE = Nullable(Text(), { placeholder: '<url>',
  help: 'Where the study lives: sqlite:<file> (one machine) or postgres://user@host:port/db (workers on several). Default: env INSIGHT_TUNE_STORAGE, else sqlite:<runs dir>/tune.db.' });
const HEARTBEAT = Type.Number({ default: 10, exclusiveMinimum: 0, placeholder: '<s>', help: 'A running trial tells the storage it is alive every <s> seconds.' });
const STALE = Nullable(Type.Number({ exclusiveMinimum: 0 }), { placeholder: '<s>',
  help: 'A running trial without a heartbeat for <s> seconds lost its worker: it is marked failed and retried. Default: 3 x --heartbeat-seconds.' });
const RUNS_DIR = withOptions(FIELDS.runsDir, { help: 'Where the default SQLite storage lives (sqlite:<runs dir>/tune.db); trials\' runs go where the study\'s base config says.' });

/** `insight tune` options beside the base training config. */
export const TUNE_SCHEMA = Type.Object({
  study: STUDY,
  space: Nullable(Text(), { placeholder: '<file>', help: 'The search space (YAML or JSON): training config keys and their ranges. Needed to create a study.' }),
  storage: STORAGE,
  sampler: OneOf(SAMPLER_NAMES, { default: 'tpe', placeholder: '<name>', help: 'tpe (Bayesian, after random start-up trials), random, or grid (every point once).' }),
  pruner: OneOf(PRUNER_NAMES, { default: 'asha', placeholder: '<name>', help: 'Stop unpromising trials early: asha (successive halving over epochs), median, or none.' }),
  trials: Type.Integer({ default: 20, minimum: 1, placeholder: '<n>', help: 'The study\'s budget: trials that complete or are pruned (failed ones do not count: others take their place).' }),
  metric: OneOf(MONITORS, { default: 'val_accuracy', placeholder: '<metric>', help: 'The per-epoch metric optimised.' }),
  direction: Nullable(OneOf(DIRECTIONS), { placeholder: '<dir>', help: 'maximize or minimize the metric. Default: maximize accuracies, minimize losses.' }),
  workers: Type.Integer({ default: 1, minimum: 1, maximum: 64, placeholder: '<n>', help: 'Trials run at once, each in a local worker process (1: in this process).' }),
  seed: Type.Integer({ default: 0, minimum: 0, maximum: 2 ** 31 - 1, placeholder: '<n>', help: 'Seeds the sampler (the trials\' training seed is the base config\'s, from --config).' }),
  heartbeatSeconds: HEARTBEAT,
  staleSeconds: STALE,
});
export type TuneOptions = Static<typeof TUNE_SCHEMA>;

/** `insight tune worker`: everything else comes from the study in the storage. */
export const TUNE_WORKER_SCHEMA = Type.Object({
  study: withOptions(STUDY, { help: 'The study to join (it must exist in the storage).' }),
  storage: STORAGE,
  runsDir: RUNS_DIR,
  heartbeatSeconds: HEARTBEAT,
  staleSeconds: STALE,
});
export type TuneWorkerOptions = Static<typeof TUNE_WORKER_SCHEMA>;

export const TUNE_SHOW_SCHEMA = Type.Object({
  study: withOptions(STUDY, { help: 'The study to show.' }),
  storage: STORAGE,
  runsDir: withOptions(FIELDS.runsDir, { help: 'Where the default SQLite storage lives (sqlite:<runs dir>/tune.db).' }),
  json: Type.Boolean({ default: false, help: 'Print the study, its trials, the best trial and the importances as JSON.' }),
});
export type TuneShowOptions = Static<typeof TUNE_SHOW_SCHEMA>;

export const TUNE_LIST_SCHEMA = Type.Object({
  storage: STORAGE,
  runsDir: withOptions(FIELDS.runsDir, { help: 'Where the default SQLite storage lives (sqlite:<runs dir>/tune.db).' }),
  json: Type.Boolean({ default: false, help: 'Print the studies as JSON.' }),
});
export type TuneListOptions = Static<typeof TUNE_LIST_SCHEMA>;

/** A study name is also a run tag (study:<name>) and part of run names: letters, digits, _ . - only. */
const STUDY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,57}$/;

export function checkStudyName(name: string): void {
  if (!STUDY_NAME.test(name)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A study name must be 1-58 characters: a letter or digit, then letters, digits, _ . or -.', { study: name },
      'Pass e.g. --study lr-search.');
  }
}

/** The direction given, else the metric's own: losses are minimised, accuracies maximised. */
export function directionOf(metric: string, direction: Direction | null): Direction {
  return direction ?? (/loss/.test(metric) ? 'minimize' : 'maximize');
}

/** The environment variable a storage URL may come from instead of --storage (keeps a password out of `ps` and shell history). */
export const STORAGE_ENV = 'INSIGHT_TUNE_STORAGE';

/** The storage URL given, else $INSIGHT_TUNE_STORAGE, else the SQLite file under the runs directory. */
export function storageUrlOf(storage: string | null, runsDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return storage ?? (env[STORAGE_ENV] || `sqlite:${runsDir.replace(/\/+$/, '')}/tune.db`);
}

/** Heartbeat-based staleness: the given timeout, else three heartbeats. */
export function staleSecondsOf(options: { heartbeatSeconds: number; staleSeconds: number | null }): number {
  return options.staleSeconds ?? 3 * options.heartbeatSeconds;
}

export function resolveTuneOptions(input: unknown = {}): TuneOptions {
  const options = validateConfig(TUNE_SCHEMA, input, 'tune options');
  checkStudyName(options.study);
  return options;
}

export function resolveTuneWorkerOptions(input: unknown = {}): TuneWorkerOptions {
  return validateConfig(TUNE_WORKER_SCHEMA, input, 'tune worker options');
}
