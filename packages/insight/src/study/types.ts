// The records of a hyperparameter study as every storage keeps them (SQLite for one machine, PostgreSQL for
// workers on several): a study, its trials, and each trial's per-epoch reports. `insight tune` (tune/) samples,
// prunes and runs trials on top of these; the dashboard reads them. Plain JSON-able values only.

/** A sampled value: a float, an int, or a categorical choice. */
export type ParamValue = number | string | boolean;

/** One trial's parameters by config key (a conditional parameter that is inactive is absent). */
export type Params = Record<string, ParamValue>;

/**
 * A trial's life: `waiting` (enqueued, e.g. a retry of a trial whose worker died, or a grid point) → `running`
 * (claimed by one worker, which sends heartbeats) → `completed` | `pruned` | `failed`. Only the worker that holds a
 * running trial may finish it, once. Under ASHA a running trial that reaches a rung without a place among its best
 * is `paused` (nobody trains it; its run keeps the checkpoint of that epoch) until a worker promotes it (`running` again,
 * resumed from its run) or the study ends without promoting it (`pruned`).
 */
export type TrialState = 'waiting' | 'running' | 'paused' | 'completed' | 'pruned' | 'failed';

export const FINISHED_STATES: readonly TrialState[] = ['completed', 'pruned', 'failed'];

export type Direction = 'maximize' | 'minimize';

/** What a study is: fixed when it is created; a worker joining an existing study must agree with it. */
export interface StudySpec {
  name: string;
  /** The metric optimised, as the trainer logs it per epoch (e.g. 'val_accuracy'). */
  metric: string;
  direction: Direction;
  /** The search space as written (JSON), kept so that every worker samples the same space. */
  space: unknown;
  /** Sampler name and options, e.g. { name: 'tpe', seed: 1 }. */
  sampler: Record<string, unknown>;
  /** Pruner name and options, e.g. { name: 'asha', minEpochs: 1, reductionFactor: 3 }. */
  pruner: Record<string, unknown>;
  /** The trial budget: trials counted are all but failed ones (waiting, running, paused, completed, pruned); a failed one frees its place. */
  maxTrials: number;
  /** The training config every trial starts from (the sampled params override its keys). */
  baseConfig: Record<string, unknown>;
}

export interface StudyRecord extends StudySpec {
  id: number;
  createdAt: string;
}

/** One per-epoch report of a trial: the study's metric after `step` epochs. */
export interface IntermediateValue {
  step: number;
  value: number;
}

export interface TrialRecord {
  id: number;
  studyId: number;
  /** 0, 1, 2, ... in creation order within the study (a retry gets a new number). */
  number: number;
  state: TrialState;
  params: Params;
  /** The final value of the study's metric (completed), or the last reported one (pruned, paused); null otherwise. */
  value: number | null;
  intermediate: IntermediateValue[];
  /** The ordinary training run of this trial (runs/...), once it has one. */
  runDir: string | null;
  /** The worker that holds it (running), or last held, paused or finished it: 'host:pid:random'. */
  workerId: string | null;
  /** The id of the trial this one retries (its worker died while running it), or null. */
  retryOf: number | null;
  /** Why it failed, when it did. */
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string | null;
}
