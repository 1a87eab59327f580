// What both storages share: the schema version and trials.state's CHECK, checking a study's definition and the values
// given to them, and turning a database row (snake_case; JSON as text from SQLite or parsed from PostgreSQL's json;
// times as ISO text or Date) into a record.
import { ruleError } from '../errors';
import { FINISHED_STATES, type IntermediateValue, type Params, type StudyRecord, type StudySpec, type TrialRecord, type TrialState } from './types';

/**
 * The layout of the tables (both storages). 1: the first; 2: trials.state also accepts 'paused' (ASHA). A storage
 * migrates an older one in place when it opens it, and refuses a newer one.
 */
export const SCHEMA_VERSION = 2;
/** meta's `format` row: tells an Insight study storage from another database that happens to have these tables. */
export const SCHEMA_FORMAT = 'insight-study';

/** Every trial state, each once (the record type makes a missing or unknown one a type error). */
const STATES: Record<TrialState, true> = { waiting: true, running: true, paused: true, completed: true, pruned: true, failed: true };

/** trials.state's CHECK constraint (both storages): `state IN ('waiting', 'running', ...)`. */
export const STATE_CHECK = `state IN (${Object.keys(STATES).map((state) => `'${state}'`).join(', ')})`;

/** The error of a trial declared lost by failStaleTrials. */
export const WORKER_LOST = 'worker lost: no heartbeat';

export interface StudyRow {
  id: number;
  name: string;
  metric: string;
  direction: string;
  space: unknown;
  sampler: unknown;
  pruner: unknown;
  max_trials: number;
  base_config: unknown;
  created_at: string | Date;
}

export interface TrialRow {
  id: number;
  study_id: number;
  number: number;
  state: string;
  params: unknown;
  value: number | null;
  run_dir: string | null;
  worker_id: string | null;
  retry_of: number | null;
  error: string | null;
  created_at: string | Date;
  started_at: string | Date | null;
  finished_at: string | Date | null;
  heartbeat_at: string | Date | null;
}

const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) as unknown : value);
const iso = (time: string | Date) => (time instanceof Date ? time.toISOString() : time);
const isoOrNull = (time: string | Date | null) => (time === null ? null : iso(time));

export function studyOf(row: StudyRow): StudyRecord {
  return {
    id: row.id, name: row.name, metric: row.metric, direction: row.direction as StudyRecord['direction'],
    space: json(row.space), sampler: json(row.sampler) as Record<string, unknown>, pruner: json(row.pruner) as Record<string, unknown>,
    maxTrials: row.max_trials, baseConfig: json(row.base_config) as Record<string, unknown>, createdAt: iso(row.created_at),
  };
}

export function trialOf(row: TrialRow, intermediate: IntermediateValue[] = []): TrialRecord {
  return {
    id: row.id, studyId: row.study_id, number: row.number, state: row.state as TrialState, params: json(row.params) as Params,
    value: row.value, intermediate, runDir: row.run_dir, workerId: row.worker_id, retryOf: row.retry_of, error: row.error,
    createdAt: iso(row.created_at), startedAt: isoOrNull(row.started_at), finishedAt: isoOrNull(row.finished_at),
    heartbeatAt: isoOrNull(row.heartbeat_at),
  };
}

/** JSON with object keys sorted: two spaces written in another key order are the same space. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** Throws INSIGHT_E_CONFIG unless `spec` is a study definition a storage can keep. */
export function checkSpec(spec: StudySpec): void {
  const bad = (rule: string, received: Record<string, unknown>, fix: string) => ruleError('INSIGHT_E_CONFIG', rule, received, fix);
  if (typeof spec.name !== 'string' || spec.name.trim() === '' || spec.name.length > 200) {
    throw bad('A study name must be a non-empty string of at most 200 characters.', { study: spec.name }, 'Pass e.g. --study cifar-tpe.');
  }
  if (typeof spec.metric !== 'string' || spec.metric === '') {
    throw bad('A study must name the metric it optimises.', { study: spec.name, metric: spec.metric }, 'Pass e.g. metric: val_accuracy.');
  }
  if (spec.direction !== 'maximize' && spec.direction !== 'minimize') {
    throw bad('A study\'s direction must be maximize or minimize.', { study: spec.name, direction: spec.direction }, 'Pass direction: maximize (accuracy) or minimize (loss).');
  }
  if (!Number.isSafeInteger(spec.maxTrials) || spec.maxTrials < 1) {
    throw bad('A study\'s trial budget must be an integer >= 1.', { study: spec.name, maxTrials: spec.maxTrials }, 'Pass e.g. --trials 20.');
  }
}

/** Throws INSIGHT_E_CONFIG when `spec` (joining) is not the definition `stored` was created with. */
export function checkJoin(stored: StudyRecord, spec: StudySpec, storageUrl: string): void {
  const differs = [
    ...(stored.metric !== spec.metric ? ['metric'] : []),
    ...(stored.direction !== spec.direction ? ['direction'] : []),
    ...(canonicalJson(stored.space) !== canonicalJson(spec.space) ? ['space'] : []),
  ];
  if (differs.length === 0) return;
  throw ruleError('INSIGHT_E_CONFIG', 'A study joined or resumed must keep the metric, direction and search space it was created with.',
    { study: spec.name, storage: storageUrl, differs, stored: { metric: stored.metric, direction: stored.direction }, given: { metric: spec.metric, direction: spec.direction } },
    'Pass the study\'s own definition to join it (`insight tune show` prints it), or choose another --study name for a new study.');
}

/** Throws INSIGHT_E_CONFIG unless `value` is a finite number (NaN and ±Infinity cannot be compared or stored alike). */
export function checkFinite(what: string, value: number | null, trialId: number): void {
  if (value === null || Number.isFinite(value)) return;
  throw ruleError('INSIGHT_E_CONFIG', `A trial's ${what} must be a finite number.`, { trial: trialId, value },
    'Finish a trial whose metric diverged as failed (value null) instead.');
}

/** Throws INSIGHT_E_CONFIG unless `state` is one a trial can be finished as (a pause is pauseTrial's). */
export function checkFinishState(state: TrialState, trialId: number): void {
  if (FINISHED_STATES.includes(state)) return;
  throw ruleError('INSIGHT_E_CONFIG', 'A trial can only be finished as completed, pruned or failed.', { trial: trialId, state },
    state === 'paused' ? 'Pause a running trial with pauseTrial.' : 'Pass the state the trial ended in.');
}

/** Throws INSIGHT_E_CONFIG unless `step` is an integer >= 0 (epochs done). */
export function checkStep(step: number, trialId: number): void {
  if (Number.isSafeInteger(step) && step >= 0) return;
  throw ruleError('INSIGHT_E_CONFIG', 'A trial\'s intermediate step must be an integer >= 0 (the epochs done).', { trial: trialId, step },
    'Report after each epoch with its epoch count.');
}

/** The error for a study id no study has. */
export function noStudy(storageUrl: string, studyId: number): Error {
  return ruleError('INSIGHT_E_STORAGE', 'The study storage holds no study with this id.', { storage: storageUrl, studyId },
    'Open the study by name (createStudy or getStudy) and use the id of the record it returns.');
}

/** The error for a trial id no trial has. */
export function noTrial(storageUrl: string, trialId: number): Error {
  return ruleError('INSIGHT_E_STORAGE', 'The study storage holds no trial with this id.', { storage: storageUrl, trialId },
    'Use the id of a trial record this storage returned.');
}

/** Whether meta's `format` and `version` are a study storage this Insight reads (an older version it migrates first). */
export function knownSchema(format: string | undefined, version: number | undefined): boolean {
  return format === SCHEMA_FORMAT && version !== undefined && Number.isSafeInteger(version) && version >= 1 && version <= SCHEMA_VERSION;
}

/** The error for a storage written by a newer Insight, a database that is not a study storage, or a malformed version. */
export function schemaError(storageUrl: string, format: string | undefined, version: number | undefined): Error {
  if (format !== SCHEMA_FORMAT) {
    return ruleError('INSIGHT_E_STORAGE', 'The storage holds tables that are not an Insight study storage\'s.',
      { storage: storageUrl, format: format ?? null }, 'Give each study storage a database (or SQLite file) of its own.');
  }
  if (version === undefined || !Number.isSafeInteger(version) || version < 1) {
    return ruleError('INSIGHT_E_STORAGE', 'The study storage\'s meta table must hold its schema version, an integer >= 1.',
      { storage: storageUrl, version: version ?? null }, 'Give each study storage a database (or SQLite file) of its own: this one was altered by another program or by hand.');
  }
  return ruleError('INSIGHT_E_STORAGE', `The study storage was written by a newer Insight (schema version ${version}); this one reads versions up to ${SCHEMA_VERSION}.`,
    { storage: storageUrl, version }, 'Upgrade Insight on this machine to the version the other workers run.');
}
