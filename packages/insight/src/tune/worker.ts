// A tune worker: joins a study and runs its trials until the budget is spent. Each turn: trials whose worker went
// silent (no heartbeat for staleSeconds) are marked failed and enqueued again → claim a waiting trial (a retry, a
// grid point), or a paused trial the pruner promotes now (ASHA: resumed from its run), or sample params and create a
// trial (null: the budget is spent) → train it → finish it (or pause it). With the budget spent, a worker waits
// while other workers still hold running trials, since a trial whose worker dies is retried and a trial that reaches
// a rung may make a paused one promotable; once nothing runs or waits, it makes the pruner's final promotion (a rung
// short of η values promotes its best), and when there is none, prunes the paused trials. A promotion resumes the
// trial's run from its checkpoint, so workers on several machines promote only trials whose run directory they can
// read (a shared runs directory); the others are left to a worker that can, or pruned at the end. Any number of
// workers, on any machines, may run this on one storage: each step is one transaction.
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';

import { ruleError } from '../errors';
import { hasCheckpoint } from '../run/checkpoint';
import { RunDir } from '../run/run_dir';
import { streamRng } from '../data/random';
import type { StudyStorage } from '../study/storage';
import type { StudyRecord, TrialRecord } from '../study/types';
import { strategyOf, type Strategy } from './strategy';
import { runTrial, type TrialOutcome } from './trial_runner';

export interface WorkerRunOptions {
  /** 'host:pid:random' by default. */
  workerId?: string;
  heartbeatSeconds: number;
  staleSeconds: number;
  /** Training output; default process.stdout. */
  out?: NodeJS.WriteStream;
  /** Where the worker's own lines go (trial started/finished); default `out`. */
  log?: (line: string) => void;
  /** Let training stop at SIGINT/SIGTERM with a checkpoint, and the worker after it (default true). */
  handleSignals?: boolean;
  /** The sampler, pruner and space; default: from the study's spec (tests inject their own). */
  strategy?: Strategy;
  /** Stop after this many trials of this worker's own failing in a row (default 5): a broken base config. */
  maxConsecutiveFailures?: number;
}

/** One run of a trial by this worker (a paused trial that is promoted has one entry per run: to its pause, and after). */
export interface WorkerTrial extends TrialOutcome {
  number: number;
  params: TrialRecord['params'];
}

export interface WorkerResult {
  workerId: string;
  trials: WorkerTrial[];
  /** Why the worker stopped. */
  stopped: 'budget' | 'signal';
}

function newWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** A short, stable number from a string (which worker sampled), to separate the random streams of parallel workers. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** 'lr=0.0031, optimizer=sgd' */
export function formatParams(params: TrialRecord['params']): string {
  return Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`).join(', ');
}

/**
 * The next trial for this worker: a paused one the pruner promotes (claimed; `resume`: it continues its run), else a
 * waiting one (claimed), else a new one with sampled params, else null (budget spent or the sampler exhausted). The
 * random stream is a function of the study's seed and the number of trials so far, so a study with one worker is
 * reproducible; parallel workers also key it by who samples.
 */
async function nextTrial(storage: StudyStorage, study: StudyRecord, strategy: Strategy, workerId: string): Promise<{ trial: TrialRecord; resume: boolean } | null> {
  const promoted = await claimPromotion(storage, study, strategy, workerId);
  if (promoted !== null) return { trial: promoted, resume: true };
  const waiting = await storage.claimWaitingTrial(study.id, workerId);
  if (waiting !== null) return { trial: waiting, resume: false };
  const trials = await storage.trials(study.id);
  const others = trials.some((t) => t.state === 'running' && t.workerId !== workerId);
  const seed = typeof study.sampler.seed === 'number' ? study.sampler.seed : 0;
  const rng = streamRng(seed, 'tune', trials.length, others ? hashOf(workerId) : 0);
  const params = strategy.sampler.sample(strategy.space, trials, study.direction, rng);
  if (params === null) return null;
  const created = await storage.createTrial(study.id, params, workerId);
  return created === null ? null : { trial: created, resume: false };
}

/** A paused trial whose run's checkpoint this worker can read (its run directory is on this machine, or shared). */
const resumableHere = (trial: TrialRecord) => trial.runDir !== null && hasCheckpoint(RunDir.at(trial.runDir).lastCheckpoint);

/**
 * The paused trial the pruner promotes now (`final`: the study's last promotion), claimed for this worker (another
 * worker may claim it first: ask again), or null.
 */
async function claimPromotion(storage: StudyStorage, study: StudyRecord, strategy: Strategy, workerId: string, final = false): Promise<TrialRecord | null> {
  if (strategy.pruner.promotion === undefined) return null;
  for (;;) {
    const candidate = strategy.pruner.promotion(await storage.trials(study.id), study.direction, { final, resumable: resumableHere });
    if (candidate === null) return null;
    const claimed = await storage.claimPausedTrial(candidate.id, workerId);
    if (claimed !== null) return claimed;
  }
}

/** The study is over (budget spent, nothing runs or waits, no final promotion): its paused trials are pruned with their last value. */
async function prunePaused(storage: StudyStorage, study: StudyRecord, workerId: string, log: (line: string) => void): Promise<void> {
  for (const paused of await storage.trials(study.id, ['paused'])) {
    const pruned = await storage.prunePausedTrial(paused.id, workerId);
    if (pruned === null) continue; // another worker pruned it
    const last = pruned.intermediate.at(-1)!; // a trial pauses at a report
    log(`Trial ${pruned.number} pruned: paused at epoch ${last.step} and never promoted (${study.metric} ${pruned.value!.toFixed(4)}).`);
  }
}

/** Runs `study`'s trials on `storage` until its budget is spent (or a signal stops the worker). */
export async function runWorker(storage: StudyStorage, study: StudyRecord, options: WorkerRunOptions): Promise<WorkerResult> {
  const workerId = options.workerId ?? newWorkerId();
  const log = options.log ?? ((line: string) => (options.out ?? process.stdout).write(`${line}\n`));
  const strategy = options.strategy ?? strategyOf(study);
  const maxFailures = options.maxConsecutiveFailures ?? 5;
  const handleSignals = options.handleSignals ?? true;
  const result: WorkerResult = { workerId, trials: [], stopped: 'budget' };
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => void (signalled ??= signal);
  if (handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  let failuresInRow = 0;
  try {
    while (signalled === null) {
      for (const lost of await storage.failStaleTrials(study.id, options.staleSeconds)) {
        log(`Trial ${lost.number} lost its worker ${lost.workerId ?? '?'} (no heartbeat for ${options.staleSeconds} s): marked failed, retried as a new trial.`);
      }
      let next = await nextTrial(storage, study, strategy, workerId);
      if (next === null) {
        const inFlight = await storage.trials(study.id, ['running', 'waiting']);
        if (inFlight.length > 0) {
          await sleep(Math.min(options.heartbeatSeconds, options.staleSeconds / 2) * 1000); // trials of other workers may still be retried
          continue;
        }
        const last = await claimPromotion(storage, study, strategy, workerId, true);
        if (last === null) {
          await prunePaused(storage, study, workerId, log);
          break;
        }
        next = { trial: last, resume: true };
      }
      const { trial, resume } = next;
      const retried = trial.retryOf !== null ? await storage.trial(trial.retryOf) : null;
      log(resume ? `Trial ${trial.number} promoted: resumed after epoch ${trial.intermediate.at(-1)?.step ?? 0} (${formatParams(trial.params)})`
        : `Trial ${trial.number}${retried ? ` (retry of trial ${retried.number})` : ''}: ${formatParams(trial.params)}`);
      const outcome = await runTrial(trial, {
        storage, study, workerId, pruner: strategy.pruner, heartbeatSeconds: options.heartbeatSeconds, out: options.out, handleSignals, warn: log,
        signalled: () => signalled,
      }, resume);
      const error = outcome.interrupted ? `interrupted (${signalled ?? 'signal'}): ${outcome.error}` : outcome.error;
      // A promoted trial stopped by a signal pauses again (its run keeps the checkpoint, the next promotion resumes it);
      // a trial on its first run is failed and enqueued again, to start over.
      const pausedAgain = outcome.interrupted && resume && outcome.value !== null;
      const finished = outcome.state === 'paused' || pausedAgain ? await storage.pauseTrial(trial.id, workerId, outcome.value!)
        : await storage.finishTrial(trial.id, workerId, outcome.state, outcome.value, error);
      if (finished && outcome.interrupted && !pausedAgain) await storage.enqueueTrial(study.id, trial.params, trial.id);
      const state = pausedAgain ? 'paused' : outcome.state;
      result.trials.push({ ...outcome, state, number: trial.number, params: trial.params, lost: outcome.lost || !finished });
      log(finished ? `Trial ${trial.number} ${state}${outcome.value !== null ? `: ${study.metric} ${outcome.value.toFixed(4)}` : ''}` +
          ` after ${outcome.epochs} epoch${outcome.epochs === 1 ? '' : 's'}${outcome.error ? ` (${outcome.error.split('\n')[0]})` : ''}`
        : `Trial ${trial.number} was declared lost meanwhile and retried elsewhere: its result is not counted.`);
      if (outcome.interrupted) {
        signalled ??= 'SIGINT';
        break;
      }
      if (finished) failuresInRow = state === 'failed' ? failuresInRow + 1 : 0; // a lost trial says nothing of the config
      if (failuresInRow >= maxFailures) {
        throw ruleError('INSIGHT_E_CONFIG', `A tune worker stops after ${maxFailures} failed trials in a row: the study's base config or space is likely broken.`,
          { study: study.name, lastError: outcome.error?.split('\n')[0] ?? '' }, `Fix the cause, then run \`insight tune --study ${study.name}\` again: the study resumes.`);
      }
    }
  } finally {
    if (handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
  }
  if (signalled !== null) result.stopped = 'signal';
  return result;
}
