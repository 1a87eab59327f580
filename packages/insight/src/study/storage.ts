// The one interface every study storage implements (study/sqlite_storage.ts, study/postgres_storage.ts), opened by
// URL with openStudyStorage (study/open_storage.ts): `sqlite:<file>` (or a plain path) for one machine,
// `postgres://user@host:port/db` for workers on several. Every method is one transaction: parallel workers never
// overshoot the budget, never both claim a trial, and never finish a trial twice.
//
// A call on a trial made again — as PostgreSQL's storage does when the connection drops after the server committed
// but before its answer arrived, or a caller retrying after such an error — gives what the first one did instead of
// taking a second trial, enqueuing a second retry or reporting a finish refused: finishTrial and pauseTrial recognise
// the state they would write, by the same worker; enqueueTrial a retry of the same trial (a trial is retried once);
// prunePausedTrial and failStaleTrials made again find nothing left to do. createTrial, claimWaitingTrial and
// claimPausedTrial rely on a worker holding at most one running trial per study (a tune worker runs its trials one
// after another: tune/worker.ts): a call made afresh finds none held, so a trial found can only be the one the same
// call already took.
import type { Params, StudyRecord, StudySpec, TrialRecord, TrialState } from './types';

export interface CreateStudyOptions {
  /**
   * Trials to enqueue as `waiting`, numbers 0, 1, ... in this order (at most maxTrials of them: the budget), in the
   * same transaction that creates the study and only when that transaction creates it: of several workers creating
   * one grid study at once, exactly one enqueues its points; joining an existing study enqueues nothing.
   */
  enqueue?: readonly Params[];
}

export interface StudyStorage {
  /** 'sqlite:/abs/path.db' or 'postgres://...' with the password removed: for messages and logs. */
  readonly url: string;

  /**
   * Creates the study, or returns the existing one of that name when its metric, direction and space agree
   * (a worker joining, or a study resumed); a different definition under the same name is an error. `options.enqueue`
   * enqueues trials with the creation (a grid's points), never when joining.
   */
  createStudy(spec: StudySpec, options?: CreateStudyOptions): Promise<StudyRecord>;
  /** The study of that name, or null. */
  getStudy(name: string): Promise<StudyRecord | null>;
  listStudies(): Promise<StudyRecord[]>;

  /**
   * Claims the oldest `waiting` trial for `workerId` (now `running`, started now), or null when none waits.
   * Idempotent: when `workerId` already holds a running trial of this study that it claimed from `waiting` and has
   * not heartbeated since — its start is later than its creation (a trial created running starts when it is created)
   * and its heartbeat is still the claim's (a claimed paused trial keeps its first start, so its heartbeat is later;
   * a worker heartbeats only once the claim has returned) — that trial is returned and nothing else is claimed.
   * SQLite's clock counts milliseconds: a trial claimed in the millisecond it was enqueued is not recognised (a call
   * made again claims another; SQLite has no lost acknowledgement to make it again).
   */
  claimWaitingTrial(studyId: number, workerId: string): Promise<TrialRecord | null>;
  /**
   * Creates a `running` trial with these params held by `workerId`, unless the study's budget is spent (trials
   * not `failed` ≥ maxTrials): then null. Atomic with respect to other workers. Idempotent: when `workerId` already
   * holds a running trial of this study with the same params (the same JSON text), that trial is returned (even with
   * the budget spent by it) and none is created.
   */
  createTrial(studyId: number, params: Params, workerId: string): Promise<TrialRecord | null>;
  /**
   * Enqueues a `waiting` trial with fixed params (a grid point, a user's starting point, or with `retryOf` the retry of
   * an interrupted trial). A trial is retried once: when `retryOf` already has a retry, that one is returned.
   */
  enqueueTrial(studyId: number, params: Params, retryOf?: number | null): Promise<TrialRecord>;

  /**
   * Records the metric after `step` epochs (a repeated step overwrites: a resumed trial may report it again). Ignored
   * once the trial is no longer running (a lost worker's late reports count for nothing). `value` must be finite.
   */
  reportIntermediate(trialId: number, step: number, value: number): Promise<void>;
  /**
   * Says the worker holding the trial is alive (and records its run directory once known). Returns false (and changes
   * nothing) when the trial is no longer running or held by `workerId`: it was declared stale, stop training it.
   */
  heartbeat(trialId: number, workerId: string, runDir?: string): Promise<boolean>;
  /**
   * Finishes a running trial held by `workerId` as completed, pruned or failed. Returns false (and changes nothing)
   * when the trial is no longer running or held by someone else (it was declared stale and retried): never counted twice.
   * Idempotent: true (and nothing changes) when `workerId` already finished it with this state, value and error.
   */
  finishTrial(trialId: number, workerId: string, state: Exclude<TrialState, 'waiting' | 'running' | 'paused'>, value: number | null, error?: string): Promise<boolean>;
  /**
   * Pauses a running trial held by `workerId` (ASHA: it reached a rung without a place among the rung's best): state
   * `paused` with `value` (its last reported value), no heartbeat and `workerId` kept as the worker that paused it
   * (nobody holds a paused trial: any worker may claim it); its run keeps the checkpoint. Returns false (and changes
   * nothing) when the trial is no longer running or held by someone else. Idempotent: true when `workerId` already
   * paused it with this value.
   */
  pauseTrial(trialId: number, workerId: string, value: number): Promise<boolean>;
  /**
   * Claims a `paused` trial for `workerId` (a promotion): `running` again, held by
   * `workerId` with a fresh heartbeat. Returns it, or null when it is no longer paused (another worker claimed it).
   * Idempotent: when the trial is already running held by `workerId` (this claim made again), it is returned as it is.
   */
  claimPausedTrial(trialId: number, workerId: string): Promise<TrialRecord | null>;
  /**
   * Prunes a `paused` trial (the study ended without promoting it) in one step, with the value it paused with and
   * `workerId` as the worker that finished it: nothing is left running if that worker dies. Returns it, or null when
   * it is no longer paused (another worker pruned or claimed it).
   */
  prunePausedTrial(trialId: number, workerId: string): Promise<TrialRecord | null>;
  /**
   * Marks `running` trials whose last heartbeat is older than `staleSeconds` as failed ('worker lost') and enqueues
   * one `waiting` retry of each with the same params. Returns the trials marked.
   */
  failStaleTrials(studyId: number, staleSeconds: number): Promise<TrialRecord[]>;

  /** The study's trials in number order, optionally only those in the given states. */
  trials(studyId: number, states?: readonly TrialState[]): Promise<TrialRecord[]>;
  trial(trialId: number): Promise<TrialRecord | null>;

  close(): Promise<void>;
}
